from datetime import datetime
from uuid import UUID

import msgspec

from domain.identity.sessions import Session

__all__ = ("SessionList", "SessionOut", "SignOutIn", "SignOutOut")


class SessionOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    identity_provider: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def from_entity(cls, session: Session, current: UUID | None) -> "SessionOut":
        return cls(
            id=session.id_,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            identity_provider=session.identity_provider,
            user_agent=session.user_agent,
            current=session.id_ == current,
        )


class SessionList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[SessionOut]


class SignOutIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    everywhere: bool = False


class SignOutOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    logout_url: str | None
    sessions_ended: int
