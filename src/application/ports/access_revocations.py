from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from domain.identity.api_keys import ApiKeyId
from domain.identity.entities import UserId
from domain.identity.sessions import SessionId
from domain.organizations.entities import OrgId

__all__ = (
    "AccessRevocations",
    "ApiKeyRevoked",
    "MembershipChanged",
    "Revocation",
    "RevocationSubscription",
    "RevocationsMissed",
    "SessionRevoked",
    "UserChanged",
)


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    key_id: ApiKeyId


@dataclass(frozen=True, slots=True)
class SessionRevoked:
    session_id: SessionId


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    """The person left or was removed from the organization, or their role there changed."""

    user_id: UserId
    org_id: OrgId


@dataclass(frozen=True, slots=True)
class UserChanged:
    """The person's account changed (email, its verification, accepted terms, profile): what
    was proved for them before holds an outdated account."""

    user_id: UserId


@dataclass(frozen=True, slots=True)
class RevocationsMissed:
    """Revocations may have been lost (the connection carrying them broke, or the reader fell
    behind): whatever relies on them checks everything again."""


Revocation = ApiKeyRevoked | SessionRevoked | MembershipChanged | UserChanged | RevocationsMissed


class RevocationSubscription(Protocol):
    """Revocations announced anywhere after the subscription began, until it is closed."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Revocation]: ...


class AccessRevocations(Protocol):
    """Tells every server that access ended or changed: an API key or a session revoked, a
    membership ended or changed, an account changed. Use cases announce after their commit;
    what holds access open (a websocket, a cache of principals) subscribes and checks again
    whatever is affected.

    Announcing is best effort and never raises: a failure is logged, and those who rely on
    announcements still read the credential again before changing anything for it (reads may
    rest on what it proved seconds ago: the principal cache).
    """

    @abstractmethod
    async def publish(self, revocations: Sequence[Revocation]) -> None: ...

    @abstractmethod
    def subscribe(self) -> AbstractAsyncContextManager[RevocationSubscription]:
        """Revocations from now on: anything announced once this is entered arrives."""

    @abstractmethod
    def listening(self) -> bool:
        """Whether announcements are heard now. While they are not (the connection carrying
        them is broken), whatever relies on them must not trust what it remembers; when they are
        heard again, subscribers have already been told ``RevocationsMissed``."""
