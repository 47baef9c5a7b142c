import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, NewType
from uuid import UUID

from domain.identity.entities import UserId
from domain.secrets.errors import (
    InvalidSecretDescriptionError,
    InvalidSecretNameError,
    InvalidSecretValueError,
)
from domain.shared.ids import new_id

__all__ = (
    "CustomSecret",
    "SecretDescription",
    "SecretId",
    "SecretName",
    "SecretValue",
)

SecretId = NewType("SecretId", UUID)


@dataclass(frozen=True, slots=True)
class SecretName:
    """The environment variable the runtime sets: ``[A-Za-z_][A-Za-z0-9_]*``, 1 to 64
    characters, case kept (``Token`` and ``TOKEN`` are two secrets).

    Refused, in any case: what a shell or the runtime needs to work (``PATH``, ``HOME``,
    ``LD_PRELOAD``...), the git-provider tokens the server injects itself (``GITHUB_TOKEN``...)
    and the server's and the runtime's own prefixes (``MAESTRIST_``, ``OPENHANDS_``,
    ``SANDBOX_``).
    """

    value: str
    MAX_LENGTH: ClassVar[int] = 64
    PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    RESERVED: ClassVar[frozenset[str]] = frozenset(
        {"PATH", "HOME", "USER", "SHELL", "PWD", "OLDPWD", "TERM", "LANG", "HOSTNAME", "TMPDIR"}
        | {"LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "IFS", "_"}
        | {"GITHUB_TOKEN", "GITLAB_TOKEN", "BITBUCKET_TOKEN", "SESSION_API_KEY"}
    )
    RESERVED_PREFIXES: ClassVar[tuple[str, ...]] = ("MAESTRIST_", "OPENHANDS_", "SANDBOX_")

    def __post_init__(self) -> None:
        if not 1 <= len(self.value) <= self.MAX_LENGTH or not self.PATTERN.fullmatch(self.value):
            raise InvalidSecretNameError(
                f"A secret's name is 1 to {self.MAX_LENGTH} letters, digits and underscores, "
                "not starting with a digit.",
                field="name",
            )
        upper = self.value.upper()
        if upper in self.RESERVED or upper.startswith(self.RESERVED_PREFIXES):
            raise InvalidSecretNameError(
                f"{self.value} is reserved for the runtime; choose another name.", field="name"
            )

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class SecretValue:
    """1 to 16384 characters without NUL (an environment value cannot hold one). Never shown
    back; its ``repr`` hides it."""

    value: str
    MAX_LENGTH: ClassVar[int] = 16_384

    def __post_init__(self) -> None:
        if not 1 <= len(self.value) <= self.MAX_LENGTH or "\x00" in self.value:
            raise InvalidSecretValueError(
                f"A secret's value has 1 to {self.MAX_LENGTH} characters and no NUL.",
                field="value",
            )

    def __repr__(self) -> str:
        return "SecretValue(...)"


@dataclass(frozen=True, slots=True)
class SecretDescription:
    """What the secret is for: up to 500 characters, white space collapsed, no control
    characters; empty is no description."""

    value: str
    MAX_LENGTH: ClassVar[int] = 500

    def __post_init__(self) -> None:
        cleaned = " ".join(self.value.split())
        if len(cleaned) > self.MAX_LENGTH:
            raise InvalidSecretDescriptionError(
                f"A description has at most {self.MAX_LENGTH} characters.", field="description"
            )
        if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
            raise InvalidSecretDescriptionError(
                "A description has no control characters.", field="description"
            )
        object.__setattr__(self, "value", cleaned)

    @classmethod
    def optional(cls, raw: str | None) -> "SecretDescription | None":
        """``None`` for no description or one that is only white space."""
        if raw is None:
            return None
        description = cls(raw)
        return description if description.value else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomSecret:
    """A value a user gives the agent's runtime as an environment variable; sealed at rest,
    value and description alike."""

    id_: SecretId
    user_id: UserId
    name: SecretName
    value: SecretValue
    description: SecretDescription | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def create(
        cls,
        *,
        user_id: UserId,
        name: SecretName,
        value: SecretValue,
        description: SecretDescription | None,
        now: datetime,
    ) -> "CustomSecret":
        return cls(
            id_=SecretId(new_id()),
            user_id=user_id,
            name=name,
            value=value,
            description=description,
            created_at=now,
            updated_at=now,
        )

    def changed(
        self,
        *,
        value: SecretValue | None,
        description: SecretDescription | None,
        clear_description: bool,
        now: datetime,
    ) -> "CustomSecret":
        """With a new value and/or description (or none, if ``clear_description``)."""
        return replace(
            self,
            value=value or self.value,
            description=None if clear_description else description or self.description,
            updated_at=now,
        )

    def __repr__(self) -> str:
        return f"CustomSecret(id_={self.id_!r}, user_id={self.user_id!r}, name={self.name!r})"
