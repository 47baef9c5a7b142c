from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.identity.entities import UserId
from domain.identity.sessions import Session, SessionId

__all__ = ("SessionRepository",)


class SessionRepository(Protocol):
    """Sign-in sessions. Provider tokens are sealed at rest by the adapter.

    Transactional: the unit of work commits.
    """

    @abstractmethod
    async def add(self, session: Session) -> None: ...

    @abstractmethod
    async def get_by_token_hash(self, token_hash: str) -> Session | None: ...

    @abstractmethod
    async def get_for_user(self, session_id: SessionId, user_id: UserId) -> Session | None: ...

    @abstractmethod
    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        """The user's sessions that are neither revoked nor expired, newest first."""

    @abstractmethod
    async def save(self, session: Session) -> None:
        """Store new tokens, expiry, last-seen time or revocation of an added session."""

    @abstractmethod
    async def revoke_all(self, user_id: UserId, now: datetime) -> list[Session]:
        """Revoke every live session of the user; the sessions as they were before."""
