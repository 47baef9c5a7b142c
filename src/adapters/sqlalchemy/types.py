"""The one column type we keep of our own: advanced-alchemy's ``DateTimeUTC`` and ``JsonB``
serve the rest (see ``models.Base``)."""

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ("JsonText",)


class JsonText(TypeDecorator[Mapping[str, Any]]):
    """A JSON object kept as text, read back exactly as it was written on every database.

    Unlike JSONB, text takes any string the JSON carries: a NUL (``\\u0000``) or a lone
    surrogate stays escaped in the text, and comes back as the same character. Nothing
    queries inside these documents; they are stored and read whole."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Mapping[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate: only its escape is valid UTF-8
            text = json.dumps(value, separators=(",", ":"))
        return text

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        found = json.loads(value)
        assert isinstance(found, dict)
        return found
