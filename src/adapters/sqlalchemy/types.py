import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ("JsonDocument", "JsonText", "UtcDateTime")

JsonDocument = JSON().with_variant(JSONB(), "postgresql")
"""JSONB on PostgreSQL, JSON text on SQLite."""


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC and always reads back an aware datetime, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise TypeError("UtcDateTime refuses a naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
