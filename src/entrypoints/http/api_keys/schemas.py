from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from domain.identity.api_keys import ApiKey
from domain.identity.scopes import Scope

__all__ = ("ApiKeyCreate", "ApiKeyCreated", "ApiKeyList", "ApiKeyOut")


class ApiKeyCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    name: Annotated[str, msgspec.Meta(description="1 to 100 characters.", examples=["CI"])]
    scopes: Annotated[
        list[Scope], msgspec.Meta(description="What the key may do; may be empty.")
    ] = msgspec.field(default_factory=list)
    expires_at: Annotated[
        datetime | None,
        msgspec.Meta(description="Timezone-aware, in the future, within a year; none: never."),
    ] = None


class ApiKeyOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    name: str
    prefix: str
    org_id: UUID
    scopes: list[Scope]
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_entity(cls, key: ApiKey, now: datetime) -> "ApiKeyOut":
        status: Literal["active", "expired", "revoked"] = (
            "revoked"
            if key.revoked_at is not None
            else "active"
            if key.is_usable(now)
            else "expired"
        )
        return cls(
            id=key.id_,
            name=key.name.value,
            prefix=key.prefix,
            org_id=key.org_id,
            scopes=sorted(key.scopes),
            status=status,
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    key: ApiKeyOut
    token: Annotated[
        str, msgspec.Meta(description="Shown this once; send it as `Authorization: Bearer ...`.")
    ]


class ApiKeyList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ApiKeyOut]
