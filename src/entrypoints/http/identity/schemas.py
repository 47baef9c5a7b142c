from datetime import datetime
from uuid import UUID

import msgspec

from domain.identity.entities import User

__all__ = ("UserOut",)


class UserOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    email: str
    email_verified: bool
    display_name: str
    avatar_url: str | None
    created_at: datetime

    @classmethod
    def from_entity(cls, user: User) -> "UserOut":
        return cls(
            id=user.id_,
            email=user.email.value,
            email_verified=user.email_verified,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            created_at=user.created_at,
        )
