from abc import abstractmethod
from typing import Protocol

from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId

__all__ = ("ProviderTokenStore",)


class ProviderTokenStore(Protocol):
    """One token per user and provider. Transactional: the unit of work commits."""

    @abstractmethod
    async def put(self, token: ProviderToken) -> None:
        """Store the token, replacing the user's previous one for that provider."""

    @abstractmethod
    async def get(self, user_id: UserId, provider: ProviderKind) -> ProviderToken | None: ...

    @abstractmethod
    async def list_for(self, user_id: UserId) -> list[ProviderToken]:
        """Every provider token of the user, ordered by provider."""

    @abstractmethod
    async def delete(self, user_id: UserId, provider: ProviderKind) -> bool:
        """Forget the user's token for ``provider``; whether there was one."""
