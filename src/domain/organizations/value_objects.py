import re
import unicodedata
from dataclasses import dataclass
from typing import ClassVar

from domain.organizations.errors import InvalidOrgNameError, InvalidOrgSlugError

__all__ = ("OrgName", "OrgSlug")


@dataclass(frozen=True, slots=True)
class OrgName:
    """A display name: white space collapsed, 1 to 100 characters, no control characters."""

    value: str
    MAX_LENGTH: ClassVar[int] = 100

    def __post_init__(self) -> None:
        cleaned = " ".join(self.value.split())
        if not cleaned or len(cleaned) > self.MAX_LENGTH:
            raise InvalidOrgNameError(
                f"An organization name has 1 to {self.MAX_LENGTH} visible characters.",
                field="name",
            )
        if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
            raise InvalidOrgNameError(
                "An organization name has no control or format characters.", field="name"
            )
        object.__setattr__(self, "value", cleaned)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class OrgSlug:
    """A URL-safe handle: 2 to 48 lower-case letters and digits, single hyphens between them."""

    value: str
    MIN_LENGTH: ClassVar[int] = 2
    MAX_LENGTH: ClassVar[int] = 48
    PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

    def __post_init__(self) -> None:
        if not self.MIN_LENGTH <= len(self.value) <= self.MAX_LENGTH:
            raise InvalidOrgSlugError(
                f"A slug has {self.MIN_LENGTH} to {self.MAX_LENGTH} characters.", field="slug"
            )
        if not self.PATTERN.fullmatch(self.value):
            raise InvalidOrgSlugError(
                "A slug has lower-case letters and digits, joined by single hyphens.",
                field="slug",
            )

    @classmethod
    def from_name(cls, name: OrgName) -> "OrgSlug":
        """Derive a slug from a name by folding accents and joining the words with hyphens."""
        folded = unicodedata.normalize("NFKD", name.value).encode("ascii", "ignore").decode()
        words = re.findall(r"[a-z0-9]+", folded.lower())
        slug = "-".join(words)[: cls.MAX_LENGTH].strip("-")
        if len(slug) < cls.MIN_LENGTH:
            raise InvalidOrgSlugError(
                "No slug can be made from this name; give one explicitly.", field="slug"
            )
        return cls(slug)

    def __str__(self) -> str:
        return self.value
