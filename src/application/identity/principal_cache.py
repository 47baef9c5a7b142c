import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.errors import DependencyUnavailableError
from application.ports.access_revocations import (
    AccessRevocations,
    ApiKeyRevoked,
    MembershipChanged,
    Revocation,
    RevocationsMissed,
    RevocationSubscription,
    SessionRevoked,
    UserChanged,
)
from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("CacheTicket", "EvictingRevocations", "PrincipalCache", "PrincipalCacheFollower")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CacheTicket:
    """Taken before the credential is read: what is proved may be remembered only if nothing
    was revoked, anywhere, between the read and the remembering."""

    generation: int


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    until: datetime


@dataclass(frozen=True, slots=True)
class _OrgEntry:
    user_id: UserId
    org: MemberOrganization
    until: datetime


class PrincipalCache:
    """What a credential proved in the last few seconds, so a burst of requests with one API
    key or session cookie reads the database once.

    It is trusted only while revocations are heard (``PrincipalCacheFollower``): every
    revocation, membership or account change announced anywhere drops what it concerns at once,
    and one announced on this server is dropped before it is announced
    (``EvictingRevocations``), so the caller's next request never sees the old state. While
    announcements are not heard (Redis is down), nothing is remembered or reused. An entry
    never outlives ``ttl``, nor the limit its authenticator sets (the key's expiry, the
    session's expiry or token refresh); ``ttl`` zero turns the cache off.

    A read that raced a revocation is never remembered: the authenticator takes a ``ticket``
    before it reads, and ``put`` refuses it if any revocation arrived since.

    The organization a request acts in is remembered the same way (``get_org``, ``put_org``):
    a member's organization with their role, dropped when that membership ends or changes.
    Organizations themselves never change once founded, and only found memberships are kept.
    """

    def __init__(self, clock: Clock, ttl: timedelta, *, capacity: int = 10_000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._capacity = capacity
        self._entries: dict[str, _Entry] = {}
        self._orgs: dict[tuple[UserId, OrgId | None], _OrgEntry] = {}
        self._generation = 0
        self._listening: Callable[[], bool] = _never

    def ticket(self) -> CacheTicket | None:
        """``None`` when nothing read now may be remembered."""
        if self._ttl <= timedelta(0) or not self._listening():
            return None
        return CacheTicket(self._generation)

    def get(self, key: str) -> Principal | None:
        if not self._listening():
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock.now() >= entry.until:
            del self._entries[key]
            return None
        return entry.principal

    def put(
        self, key: str, principal: Principal, *, until: datetime, ticket: CacheTicket | None
    ) -> None:
        """Remember ``principal`` for ``key`` until ``until`` at the latest."""
        if ticket is None or ticket.generation != self._generation or not self._listening():
            return
        now = self._clock.now()
        until = min(until, now + self._ttl)
        if until <= now:
            return
        self._entries.pop(key, None)
        while len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]  # the oldest first
        self._entries[key] = _Entry(principal, until)

    def get_org(self, user_id: UserId, requested: OrgId | None) -> MemberOrganization | None:
        """The organization ``user_id`` acts in when naming ``requested`` (``None``: their
        personal one), as read in the last few seconds."""
        if not self._listening():
            return None
        entry = self._orgs.get((user_id, requested))
        if entry is None:
            return None
        if self._clock.now() >= entry.until:
            del self._orgs[(user_id, requested)]
            return None
        return entry.org

    def put_org(
        self,
        user_id: UserId,
        requested: OrgId | None,
        org: MemberOrganization,
        *,
        ticket: CacheTicket | None,
    ) -> None:
        """Remember that ``user_id`` naming ``requested`` acts in ``org``, for ``ttl``."""
        if ticket is None or ticket.generation != self._generation or not self._listening():
            return
        self._orgs.pop((user_id, requested), None)
        while len(self._orgs) >= self._capacity:
            del self._orgs[next(iter(self._orgs))]
        self._orgs[(user_id, requested)] = _OrgEntry(user_id, org, self._clock.now() + self._ttl)

    def forget(self, revocations: Iterable[Revocation]) -> None:
        """Drop what ``revocations`` concern; ``RevocationsMissed`` drops everything."""
        self._generation += 1
        for revocation in revocations:
            if isinstance(revocation, RevocationsMissed):
                self._entries.clear()
                self._orgs.clear()
                continue
            stale = [key for key, e in self._entries.items() if _concerns(revocation, e.principal)]
            for key in stale:
                del self._entries[key]
            gone = [key for key, e in self._orgs.items() if _concerns_org(revocation, e)]
            for org_key in gone:
                del self._orgs[org_key]

    def follow_while(self, listening: Callable[[], bool]) -> None:
        """Trust what is remembered only while ``listening()`` says announcements are heard."""
        self._listening = listening

    def stop_following(self) -> None:
        self._listening = _never
        self.forget([RevocationsMissed()])


class PrincipalCacheFollower:
    """Keeps a ``PrincipalCache`` told of every announced revocation, in the background, from
    ``start`` to ``aclose``; resubscribes after a failure."""

    def __init__(
        self,
        cache: PrincipalCache,
        revocations: AccessRevocations,
        *,
        retry_every: timedelta = timedelta(seconds=1),
    ) -> None:
        self._cache = cache
        self._revocations = revocations
        self._retry_s = retry_every.total_seconds()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="principal-cache")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None

    async def _follow(self) -> None:
        while True:
            try:
                async with self._revocations.subscribe() as subscription:
                    self._cache.follow_while(self._revocations.listening)
                    async for revocation in subscription:
                        self._cache.forget([revocation])
            except DependencyUnavailableError as exc:
                _log.warning("credentials are read every time until revocations are heard: %s", exc)
            finally:
                self._cache.stop_following()
            await asyncio.sleep(self._retry_s)


def _never() -> bool:
    return False


def _concerns(revocation: Revocation, principal: Principal) -> bool:
    match revocation:
        case ApiKeyRevoked(key_id) | SessionRevoked(key_id):
            return principal.credential_id == key_id
        case MembershipChanged(user_id, org_id):
            return principal.user.id_ == user_id and principal.bound_org_id in (org_id, None)
        case UserChanged(user_id):
            return principal.user.id_ == user_id
        case RevocationsMissed():
            return True


def _concerns_org(revocation: Revocation, entry: _OrgEntry) -> bool:
    match revocation:
        case MembershipChanged(user_id, org_id):
            return entry.user_id == user_id and entry.org.organization.id_ == org_id
        case UserChanged(user_id):
            return entry.user_id == user_id
        case RevocationsMissed():
            return True
        case _:
            return False


class EvictingRevocations(AccessRevocations):
    """Announces through ``inner``, having dropped from this server's cache what the
    announcement concerns, so the announcing request's next one already sees it."""

    def __init__(self, inner: AccessRevocations, cache: PrincipalCache) -> None:
        self._inner = inner
        self._cache = cache

    async def publish(self, revocations: Sequence[Revocation]) -> None:
        self._cache.forget(revocations)
        await self._inner.publish(revocations)

    def subscribe(self) -> AbstractAsyncContextManager[RevocationSubscription]:
        return self._inner.subscribe()

    def listening(self) -> bool:
        return self._inner.listening()
