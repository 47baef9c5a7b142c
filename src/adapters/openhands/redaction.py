"""What of an agent-server event we never hand over: credentials it may echo back in its
state (an LLM key, a secret source's value, the header carrying our git credential)."""

import re
from collections.abc import Mapping
from typing import Any

__all__ = ("REDACTED", "redact")

REDACTED = "**********"
_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:api[_-]?key|secret|password|token|authorization|credential)s?$|"
    r"^(?:x-access-token|x-session-api-key)$",
    re.IGNORECASE,
)
_SECRET_SOURCES = frozenset({"StaticSecret", "LookupSecret"})


def _redact(value: Any, *, hidden: bool = False) -> Any:
    if isinstance(value, Mapping):
        whole = value.get("kind") in _SECRET_SOURCES
        return {
            key: (
                _redact(item, hidden=True)
                if whole and key in {"value", "headers"}
                else _redact(item, hidden=bool(_SECRET_KEY.search(str(key))))
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, hidden=hidden) for item in value]
    if hidden and isinstance(value, str) and value and value != REDACTED:
        return REDACTED
    return value


def redact(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every string under a credential-like key (``api_key``, ``*_token``,
    ``password``, ``X-Access-Token``...) and every secret source's value replaced by
    ``**********``; everything else as it came."""
    redacted: dict[str, Any] = _redact(payload)
    return redacted
