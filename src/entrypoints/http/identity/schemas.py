from datetime import datetime
from uuid import UUID

import msgspec

from domain.identity.entities import User

__all__ = ("TermsAcceptance", "UserOut")


class UserOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    email: str
    email_verified: bool
    display_name: str
    avatar_url: str | None
    created_at: datetime
    terms_accepted_version: str | None

    @classmethod
    def from_entity(cls, user: User) -> "UserOut":
        return cls(
            id=user.id_,
            email=user.email.value,
            email_verified=user.email_verified,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            created_at=user.created_at,
            terms_accepted_version=user.terms_accepted_version,
        )


class TermsAcceptance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: str
