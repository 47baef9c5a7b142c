from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from domain.secrets.entities import CustomSecret

__all__ = ("SecretCreate", "SecretList", "SecretOut", "SecretUpdate")


class SecretCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    name: Annotated[
        str,
        msgspec.Meta(
            description="An environment variable name, 1 to 64 characters, unique to you.",
            examples=["OPENAI_API_KEY"],
        ),
    ]
    value: Annotated[str, msgspec.Meta(description="Write-only; 1 to 16384 characters.")]
    description: Annotated[str | None, msgspec.Meta(description="Up to 500 characters.")] = None

    def __repr__(self) -> str:
        return f"SecretCreate(name={self.name!r}, ...)"


class SecretUpdate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """Absent fields are kept; a ``null`` or empty description removes it."""

    value: Annotated[str | UnsetType, msgspec.Meta(description="Write-only.")] = UNSET
    description: str | UnsetType | None = UNSET

    def __repr__(self) -> str:
        return "SecretUpdate(...)"


class SecretOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A secret as it is shown: never its value."""

    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_entity(cls, secret: CustomSecret) -> "SecretOut":
        return cls(
            name=secret.name.value,
            description=None if secret.description is None else secret.description.value,
            created_at=secret.created_at,
            updated_at=secret.updated_at,
        )


class SecretList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[SecretOut]
