"""Parsers every section shares: each takes the stripped text of a variable and returns its
value, or raises ``ValueError`` saying what was expected."""

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

__all__ = (
    "boolean",
    "choice",
    "int_in",
    "is_loopback_http",
    "path",
    "printable",
    "seconds",
    "text",
    "url",
)

_E = TypeVar("_E", bound=StrEnum)


def int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"expected {low} to {high}, got {value}")
        return value

    return parse


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not 0 < value <= 3600:
        raise ValueError(f"expected more than 0 and at most 3600, got {raw}")
    return value


def choice(kind: type[_E]) -> Callable[[str], _E]:
    def parse(raw: str) -> _E:
        try:
            return kind(raw.lower())
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ValueError(f"expected one of {allowed}, got {raw!r}") from None

    return parse


def boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"expected a {' or '.join(schemes)} URL with a host")
        return raw

    return parse


def text(raw: str) -> str:
    return raw


def host_name(raw: str) -> str:
    """A host name or an IP address (no scheme, port or path)."""
    if not raw or len(raw) > 253 or any(ch.isspace() or ch in "/@?#" for ch in raw):
        raise ValueError(f"expected a host name or IP address, got {raw[:60]!r}")
    return raw


def printable(limit: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > limit or not raw.isprintable():
            raise ValueError(f"expected at most {limit} printable characters")
        return raw

    return parse


def path(raw: str) -> Path:
    """A path; ``~`` and ``~user`` expand, and a user that does not exist is refused."""
    try:
        return Path(raw).expanduser()
    except RuntimeError:
        raise ValueError(f"{raw[:60]} names a home directory that does not exist") from None


def is_loopback_http(address: str) -> bool:
    """Plain HTTP to this machine (``localhost``, ``*.localhost``, 127.0.0.1, ::1)."""
    parts = urlsplit(address)
    host = parts.hostname or ""
    loopback = host in {"localhost", "127.0.0.1", "::1"} or host.endswith(".localhost")
    return parts.scheme == "http" and loopback
