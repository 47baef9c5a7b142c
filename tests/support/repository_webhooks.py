"""GitLab's and Bitbucket Cloud's documented example deliveries (written into
``gitlab_webhooks/`` and ``bitbucket_webhooks/``), and their headers as each provider sends
them: GitLab's plain token, Bitbucket's signature made by ``@octokit/webhooks-methods`` (the
same ``sha256=<hex HMAC>`` scheme), independently of our code."""

import copy
import functools
import json
import uuid
from pathlib import Path
from typing import Any

from tests.support.github_examples import octokit_sign

__all__ = ("bitbucket_delivery", "bitbucket_example", "gitlab_delivery", "gitlab_example")

_HERE = Path(__file__).resolve().parent


@functools.cache
def _load(folder: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((_HERE / folder / f"{name}.json").read_text())
    return loaded


def gitlab_example(name: str) -> dict[str, Any]:
    """A fresh copy of GitLab's example (``note_issue``, ``note_merge_request``,
    ``issue_labeled``, ``merge_request_labeled``)."""
    return copy.deepcopy(_load("gitlab_webhooks", name))


def bitbucket_example(name: str) -> dict[str, Any]:
    """A fresh copy of Bitbucket's example (``pullrequest_comment_created``,
    ``issue_comment_created``)."""
    return copy.deepcopy(_load("bitbucket_webhooks", name))


_GITLAB_EVENTS = {"note": "Note Hook", "issue": "Issue Hook", "merge_request": "Merge Request Hook"}


def gitlab_delivery(
    payload: dict[str, Any],
    *,
    token: str,
    event_uuid: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a GitLab delivery: the hook's secret token in
    ``X-Gitlab-Token``, ``X-Gitlab-Event`` from the payload's kind."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitLab/17.6.0",
        "X-Gitlab-Event": _GITLAB_EVENTS[payload["object_kind"]],
        "X-Gitlab-Token": token,
        "X-Gitlab-Event-UUID": event_uuid or str(uuid.uuid4()),
        "X-Gitlab-Webhook-UUID": "a8bc5a5c-3e8d-4a59-9a6c-3e6f2c5c0b1a",
        "X-Gitlab-Instance": "https://gitlab.com",
    }
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return json.dumps(payload).encode(), headers


def bitbucket_delivery(
    payload: dict[str, Any], *, event: str, secret: str, request_uuid: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a Bitbucket Cloud delivery of ``event``, signed in
    ``X-Hub-Signature``."""
    body = json.dumps(payload).encode()
    (signature,) = octokit_sign(secret, [body])
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "Bitbucket-Webhooks/2.0",
        "X-Event-Key": event,
        "X-Hook-UUID": "{2ac5e3d1-6f41-4c6f-8f0a-5b1f2b8e4c7d}",
        "X-Request-UUID": request_uuid or str(uuid.uuid4()),
        "X-Attempt-Number": "1",
        "X-Hub-Signature": signature,
    }
