from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.identity.entities import UserId

__all__ = ("ProviderToken", "ProviderTokenStore")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderToken:
    """A git provider's token for one user, sealed at rest by the adapter."""

    user_id: UserId
    provider: str
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: str | None
    updated_at: datetime

    def __repr__(self) -> str:
        return f"ProviderToken(user_id={self.user_id!r}, provider={self.provider!r}, ...)"


class ProviderTokenStore(Protocol):
    """One token per user and provider. Transactional: the unit of work commits."""

    @abstractmethod
    async def put(self, token: ProviderToken) -> None:
        """Store the token, replacing the user's previous one for that provider."""

    @abstractmethod
    async def get(self, user_id: UserId, provider: str) -> ProviderToken | None: ...
