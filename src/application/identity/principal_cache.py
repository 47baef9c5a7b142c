import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Generic, TypeVar

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
from application.tasks import cancel_and_wait
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


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class _Shelf(Generic[_K, _V]):
    """Values kept until a time of their own, the oldest dropped past ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: dict[_K, tuple[_V, datetime]] = {}

    def get(self, key: _K, now: datetime) -> _V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if now >= found[1]:
            del self._items[key]
            return None
        return found[0]

    def put(self, key: _K, value: _V, until: datetime) -> None:
        self._items.pop(key, None)
        while len(self._items) >= self._capacity:
            del self._items[next(iter(self._items))]  # the oldest first
        self._items[key] = (value, until)

    def drop(self, stale: Callable[[_K, _V], bool]) -> None:
        for key in [key for key, (value, _) in self._items.items() if stale(key, value)]:
            del self._items[key]


@dataclass(slots=True)
class _Read:
    """The callers reading one credential, one after another."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    callers: int = 0


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
    before it reads, and ``put`` refuses it if any revocation arrived since. Requests that
    find nothing remembered for a credential read it one at a time (``recall``), so a burst
    that arrives before the first read is remembered still reads the database once.

    The organization a request acts in is remembered the same way (``get_org``, ``put_org``):
    a member's organization with their role, dropped when that membership ends or changes.
    Organizations themselves never change once founded, and only found memberships are kept.
    """

    def __init__(self, clock: Clock, ttl: timedelta, *, capacity: int = 10_000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._principals: _Shelf[str, Principal] = _Shelf(capacity)
        self._orgs: _Shelf[tuple[UserId, OrgId | None], MemberOrganization] = _Shelf(capacity)
        self._generation = 0
        self._listening: Callable[[], bool] = _never
        self._reads: dict[str, _Read] = {}

    def ticket(self) -> CacheTicket | None:
        """``None`` when nothing read now may be remembered."""
        if self._ttl <= timedelta(0) or not self._listening():
            return None
        return CacheTicket(self._generation)

    def get(self, key: str) -> Principal | None:
        return self._principals.get(key, self._clock.now()) if self._listening() else None

    async def recall(
        self, key: str, read: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        """What is remembered for ``key``, else what ``read`` finds (and ``put``s).

        Callers that miss together read one after another, each first looking again at what
        the one before remembered: one read for a burst instead of one per request. When
        nothing read now could be remembered, each reads at once.
        """
        if (cached := self.get(key)) is not None:
            return cached
        if self.ticket() is None:
            return await read()
        pending = self._reads.setdefault(key, _Read())
        pending.callers += 1
        try:
            async with pending.lock:
                if (cached := self.get(key)) is not None:
                    return cached
                return await read()
        finally:
            pending.callers -= 1
            if not pending.callers:
                del self._reads[key]

    def put(
        self, key: str, principal: Principal, *, until: datetime, ticket: CacheTicket | None
    ) -> None:
        """Remember ``principal`` for ``key`` until ``until`` at the latest."""
        if (kept := self._keep_until(until, ticket)) is not None:
            self._principals.put(key, principal, kept)

    def get_org(self, user_id: UserId, requested: OrgId | None) -> MemberOrganization | None:
        """The organization ``user_id`` acts in when naming ``requested`` (``None``: their
        personal one), as read in the last few seconds."""
        if not self._listening():
            return None
        return self._orgs.get((user_id, requested), self._clock.now())

    def put_org(
        self,
        user_id: UserId,
        requested: OrgId | None,
        org: MemberOrganization,
        *,
        ticket: CacheTicket | None,
    ) -> None:
        """Remember that ``user_id`` naming ``requested`` acts in ``org``, for ``ttl``."""
        if (until := self._keep_until(datetime.max.replace(tzinfo=UTC), ticket)) is not None:
            self._orgs.put((user_id, requested), org, until)

    def _keep_until(self, until: datetime, ticket: CacheTicket | None) -> datetime | None:
        """Until when something read under ``ticket`` may be kept, or ``None``: not at all."""
        if ticket is None or ticket.generation != self._generation or not self._listening():
            return None
        now = self._clock.now()
        until = min(until, now + self._ttl)
        return until if until > now else None

    def forget(self, revocations: Iterable[Revocation]) -> None:
        """Drop what ``revocations`` concern; ``RevocationsMissed`` drops everything."""
        self._generation += 1
        for revocation in revocations:
            self._principals.drop(partial(_concerns_key, revocation))
            self._orgs.drop(partial(_concerns_org, revocation))

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
        """Stop following (``cancel_and_wait``: a lost cancellation is repeated)."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

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


def _concerns_key(revocation: Revocation, _key: str, principal: Principal) -> bool:
    return _concerns(revocation, principal)


def _concerns_org(
    revocation: Revocation, key: tuple[UserId, OrgId | None], org: MemberOrganization
) -> bool:
    user = key[0]
    match revocation:
        case MembershipChanged(user_id, org_id):
            return user == user_id and org.organization.id_ == org_id
        case UserChanged(user_id):
            return user == user_id
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
