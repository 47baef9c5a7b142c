from abc import abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId

__all__ = ("ProviderToken", "ProviderTokenStore")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderToken:
    """A git provider's token for one user, sealed at rest by the adapter."""

    user_id: UserId
    host: GitHost
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    """None: the token does not expire (personal access tokens, classic OAuth apps)."""
    scopes: str | None
    updated_at: datetime
    refresh_expires_at: datetime | None = None

    @property
    def provider(self) -> ProviderKind:
        return self.host.kind

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        """Whether the access token is expired or will be within ``margin``."""
        return self.expires_at is not None and self.expires_at - margin <= now

    def refreshed(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
        refresh_expires_at: datetime | None,
        scopes: str | None,
        now: datetime,
    ) -> "ProviderToken":
        """This token after a refresh; a provider that sent no new refresh token keeps the old."""
        return replace(
            self,
            access_token=access_token,
            refresh_token=refresh_token if refresh_token is not None else self.refresh_token,
            expires_at=expires_at,
            refresh_expires_at=(
                refresh_expires_at if refresh_token is not None else self.refresh_expires_at
            ),
            scopes=scopes if scopes is not None else self.scopes,
            updated_at=now,
        )

    def __repr__(self) -> str:
        return f"ProviderToken(user_id={self.user_id!r}, host={self.host!r}, ...)"


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
