from dataclasses import dataclass
from datetime import timedelta

from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.git_provider import ProviderOAuth
from application.ports.locks import Locks
from application.ports.metrics import Metrics, TokenRefreshOutcome
from application.ports.unit_of_work import UnitsOfWork
from domain.git.entities import ProviderToken
from domain.git.errors import ProviderNotConnectedError, ProviderReconnectRequiredError
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId

__all__ = ("ProviderTokenPolicy", "ProviderTokens")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderTokenPolicy:
    refresh_margin: timedelta = timedelta(minutes=5)
    """A token that expires within this is refreshed before it is handed out."""
    lock_wait: timedelta = timedelta(seconds=15)
    """How long a request waits for another one's refresh of the same token."""
    lock_ttl: timedelta = timedelta(seconds=30)
    """How long a refresh may hold the lock should its process die holding it."""


class ProviderTokens:
    """A user's token for a git provider, valid for at least the refresh margin, for the use
    cases that call a provider on the user's behalf.

    A token near expiry is refreshed at the provider exactly once however many requests, in
    however many processes, need it together: one holds the lock of (user, provider), reads the
    token again and refreshes it only if it is still stale; the others wait and read what it
    stored. A refresh the provider refuses, or that cannot be made, asks the user to reconnect
    the provider and keeps the stored token; an outage is a 503 and changes nothing.

    It reads and writes in units of work of its own, never the caller's, and none stays open
    across the wait for the lock or the call to the provider: the refreshed token is committed
    there, whatever the calling use case later decides.
    """

    def __init__(
        self,
        units: UnitsOfWork,
        oauth: ProviderOAuth,
        locks: Locks,
        clock: Clock,
        policy: ProviderTokenPolicy,
        metrics: Metrics,
    ) -> None:
        self._units = units
        self._oauth = oauth
        self._locks = locks
        self._clock = clock
        self._policy = policy
        self._metrics = metrics

    async def fresh(self, user_id: UserId, provider: ProviderKind) -> ProviderToken:
        token = await self._read(user_id, provider)
        if not self._stale(token):
            return token
        async with self._locks.hold(
            f"provider-token-refresh:{user_id}:{provider.value}",
            ttl=self._policy.lock_ttl,
            wait=self._policy.lock_wait,
        ):
            token = await self._read(user_id, provider)
            if not self._stale(token):
                return token
            return await self._counted_refresh(token)

    async def _read(self, user_id: UserId, provider: ProviderKind) -> ProviderToken:
        async with self._units.begin() as uow:
            token = await uow.provider_tokens.get(user_id, provider)
        if token is None:
            raise ProviderNotConnectedError(provider)
        return token

    def _stale(self, token: ProviderToken) -> bool:
        return token.expires_within(self._policy.refresh_margin, self._clock.now())

    async def _counted_refresh(self, token: ProviderToken) -> ProviderToken:
        provider = token.provider.value
        try:
            refreshed = await self._refresh(token)
        except ProviderReconnectRequiredError:
            self._metrics.token_refresh(provider, TokenRefreshOutcome.REFUSED)
            raise
        except DependencyUnavailableError:
            self._metrics.token_refresh(provider, TokenRefreshOutcome.UNAVAILABLE)
            raise
        self._metrics.token_refresh(provider, TokenRefreshOutcome.REFRESHED)
        return refreshed

    async def _refresh(self, token: ProviderToken) -> ProviderToken:
        provider = token.provider
        if token.refresh_token is None:
            raise ProviderReconnectRequiredError(provider, "it cannot be refreshed")
        if token.refresh_expires_at is not None and token.refresh_expires_at <= self._clock.now():
            raise ProviderReconnectRequiredError(provider, "its refresh token has expired")
        if not self._oauth.can_refresh(token.host):
            raise ProviderReconnectRequiredError(
                provider, "this server has no OAuth app to refresh it with"
            )
        fresh = await self._oauth.refresh(token.host, token.refresh_token)
        refreshed = token.refreshed(
            access_token=fresh.access_token,
            refresh_token=fresh.refresh_token,
            expires_at=fresh.expires_at,
            refresh_expires_at=fresh.refresh_expires_at,
            scopes=fresh.scopes,
            now=self._clock.now(),
        )
        async with self._units.begin() as uow:
            current = await uow.provider_tokens.get(token.user_id, provider)
            if current is None:
                raise ProviderNotConnectedError(provider)
            if current.updated_at != token.updated_at:
                return current  # reconnected while we refreshed: the user's new token wins
            await uow.provider_tokens.put(refreshed)
            await uow.commit()
        return refreshed
