from dataclasses import dataclass
from typing import ClassVar, Final
from urllib.parse import urlsplit

from domain.identity.errors import InvalidEmailError

__all__ = (
    "AVATAR_URL_MAX_LENGTH",
    "DISPLAY_NAME_MAX_LENGTH",
    "SUBJECT_MAX_LENGTH",
    "EmailAddress",
    "avatar_url",
    "display_name",
    "fits_subject",
)

SUBJECT_MAX_LENGTH: Final = 255
DISPLAY_NAME_MAX_LENGTH: Final = 200
AVATAR_URL_MAX_LENGTH: Final = 2048


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """An address with exactly one ``@`` between a non-empty local part and a domain.

    The domain part is lower-cased; the local part keeps its case, as RFC 5321 allows.
    """

    value: str
    MAX_LENGTH: ClassVar[int] = 254

    def __post_init__(self) -> None:
        raw = self.value.strip()
        if not raw or len(raw) > self.MAX_LENGTH:
            raise InvalidEmailError(
                f"An email address has 1 to {self.MAX_LENGTH} characters.", field="email"
            )
        local, _, domain = raw.partition("@")
        if raw.count("@") != 1 or not local or not domain:
            raise InvalidEmailError("An email address has the form name@domain.", field="email")
        if any(ch.isspace() or ord(ch) < 32 for ch in raw):
            raise InvalidEmailError(
                "An email address has no spaces or control characters.", field="email"
            )
        if domain.startswith(".") or domain.endswith(".") or ".." in domain:
            raise InvalidEmailError("The domain of the email address is not valid.", field="email")
        object.__setattr__(self, "value", f"{local}@{domain.lower()}")

    def __str__(self) -> str:
        return self.value


def fits_subject(subject: str) -> bool:
    """Whether a provider's subject can identify a user here: 1 to 255 characters. A longer
    one is refused, never cut: two subjects sharing a prefix would become one user."""
    return 0 < len(subject) <= SUBJECT_MAX_LENGTH


def display_name(raw: str) -> str:
    """A name to show: control characters and runs of whitespace become one space, and a name
    longer than 200 characters is cut, ending in an ellipsis."""
    name = " ".join("".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in raw).split())
    if len(name) <= DISPLAY_NAME_MAX_LENGTH:
        return name
    return name[: DISPLAY_NAME_MAX_LENGTH - 1].rstrip() + "\u2026"


def avatar_url(raw: str | None) -> str | None:
    """A picture URL a browser may load: absolute ``http(s)`` with a host, at most 2048
    characters, no whitespace or control characters; anything else (``javascript:``,
    ``data:``...) is no picture."""
    if not raw or len(raw) > AVATAR_URL_MAX_LENGTH:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return raw
