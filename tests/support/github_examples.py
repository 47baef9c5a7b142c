"""GitHub's own example webhook deliveries (``@octokit/webhooks-examples``) and an independent
signer (``@octokit/webhooks-methods``), installed on first use from
``tests/support/github_webhooks/package-lock.json``; Node.js with npm is needed."""

import copy
import functools
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from tests.support.npm_packages import ensure_npm_packages

__all__ = ("github_example", "octokit_sign", "signed_example")

FOLDER = Path(__file__).parent / "github_webhooks"


@functools.cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    ensure_npm_packages(FOLDER, purpose="GitHub's example webhook deliveries")
    index = FOLDER / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"
    listed = json.loads(index.read_text(encoding="utf-8"))
    return {entry["name"]: entry["examples"] for entry in listed}


def github_example(event: str, action: str, *, installation: int | None = None) -> dict[str, Any]:
    """A copy of GitHub's first example of ``event`` with ``action``; ``installation`` sets (or
    adds, as the ``issue_comment.created`` example lacks one) the installation it came to."""
    found = next(e for e in _examples()[event] if e.get("action") == action)
    payload: dict[str, Any] = copy.deepcopy(found)
    if installation is not None:
        payload["installation"] = {**payload.get("installation", {}), "id": installation}
    return payload


def octokit_sign(secret: str, bodies: list[bytes]) -> list[str]:
    """``X-Hub-Signature-256`` of each body, as ``@octokit/webhooks-methods`` signs it."""
    ensure_npm_packages(FOLDER, purpose="GitHub's webhook signer")
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to sign GitHub deliveries"
    request = [{"secret": secret, "body": body.decode()} for body in bodies]
    done = subprocess.run(
        [node, "sign.mjs"],
        cwd=FOLDER,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    signatures = json.loads(done.stdout)
    assert isinstance(signatures, list)
    return [str(s) for s in signatures]


def signed_example(
    payload: dict[str, Any], *, event: str, secret: str, delivery_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery of ``payload``, signed by the octokit signer."""
    body = json.dumps(payload).encode()
    (signature,) = octokit_sign(secret, [body])
    return body, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/0000000",
    }
