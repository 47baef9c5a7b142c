from dataclasses import dataclass
from typing import ClassVar

from domain.identity.errors import InvalidEmailError

__all__ = ("EmailAddress",)


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
