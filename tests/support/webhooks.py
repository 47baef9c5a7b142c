"""Deliveries signed as the providers sign them, for tests."""

import hashlib
import hmac
import json
import uuid
from typing import Any

__all__ = ("GITHUB_SECRET", "github_delivery")

GITHUB_SECRET = "a-github-webhook-secret-for-tests"


def github_delivery(
    payload: dict[str, Any],
    *,
    event: str = "issues",
    delivery_id: str | None = None,
    secret: str = GITHUB_SECRET,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a GitHub delivery, signed in ``X-Hub-Signature-256``."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={signature}",
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/0000000",
    }
