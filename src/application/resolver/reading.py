"""Reading providers' webhook payloads leniently: a field missing or of another type reads as
absent."""

import json
from collections.abc import Mapping
from typing import Any

from domain.shared.errors import InvalidValueError

__all__ = ("id_of", "json_object", "mapping", "text")


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def id_of(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return str(value) or None


def json_object(body: str | bytes) -> Mapping[str, Any]:
    """The delivery's body; ``InvalidValueError`` when it is not a JSON object."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidValueError("The delivery's body is not JSON.", field="body") from None
    if not isinstance(payload, Mapping):
        raise InvalidValueError("The delivery's body is not a JSON object.", field="body")
    return payload
