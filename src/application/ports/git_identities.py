from abc import abstractmethod
from typing import Protocol

from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.resolver.entities import GitIdentity

__all__ = ("GitIdentityStore",)


class GitIdentityStore(Protocol):
    """Which user each provider account is. An account is one user's; a user has one account
    per provider, the last one proved. Transactional: the unit of work commits."""

    @abstractmethod
    async def link(self, identity: GitIdentity) -> None:
        """Record that the user proved the account theirs, replacing the user's previous
        account at that provider and whoever held this account before."""

    @abstractmethod
    async def user_of(self, provider: ProviderKind, account_id: str) -> UserId | None: ...

    @abstractmethod
    async def of_user(self, user_id: UserId, provider: ProviderKind) -> GitIdentity | None: ...
