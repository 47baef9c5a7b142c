"""The principal cache: what a credential proved is reused for a few seconds, only while
revocations are heard, never past its own limit, and dropped at once by whatever revocation
concerns it, announced on this server (before the announcement leaves) or on another."""

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import pytest

from adapters.memory import InProcessAccessRevocations
from application.identity.principal_cache import (
    EvictingRevocations,
    PrincipalCache,
    PrincipalCacheFollower,
)
from application.ports.access_revocations import (
    ApiKeyRevoked,
    MembershipChanged,
    Revocation,
    RevocationsMissed,
    RevocationSubscription,
    SessionRevoked,
    UserChanged,
)
from application.ports.org_repository import MemberOrganization
from domain.identity.api_keys import ApiKeyId
from domain.identity.entities import User
from domain.identity.principals import AuthMethod, Principal
from domain.identity.sessions import SessionId
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id
from tests.factories import create_org, create_user
from tests.fakes import FakeClock
from tests.support.polling import until
from tests.support.refused import Refused

TTL = timedelta(seconds=10)


def _key(user: User, org: OrgId) -> Principal:
    return Principal(user=user, method=AuthMethod.API_KEY, credential_id=new_id(), bound_org_id=org)


def _key_id(principal: Principal) -> ApiKeyId:
    assert principal.credential_id is not None
    return ApiKeyId(principal.credential_id)


def _session_id(principal: Principal) -> SessionId:
    assert principal.credential_id is not None
    return SessionId(principal.credential_id)


def _session(user: User) -> Principal:
    return Principal(user=user, method=AuthMethod.SESSION, credential_id=new_id())


class Listening:
    """Stands in for a revocation channel whose connection can break."""

    def __init__(self) -> None:
        self.up = True

    def __call__(self) -> bool:
        return self.up


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def listening() -> Listening:
    return Listening()


@pytest.fixture
def cache(clock: FakeClock, listening: Listening) -> PrincipalCache:
    cache = PrincipalCache(clock, TTL)
    cache.follow_while(listening)
    return cache


def _remember(cache: PrincipalCache, key: str, principal: Principal, clock: FakeClock) -> None:
    cache.put(key, principal, until=clock.now() + timedelta(hours=1), ticket=cache.ticket())


def test_a_principal_is_reused_until_the_ttl_ends(cache: PrincipalCache, clock: FakeClock) -> None:
    ada = _session(create_user("ada"))
    _remember(cache, "a", ada, clock)
    clock.advance(TTL - timedelta(milliseconds=1))
    assert cache.get("a") == ada
    clock.advance(timedelta(milliseconds=1))
    assert cache.get("a") is None


def test_the_credentials_own_limit_ends_it_sooner(cache: PrincipalCache, clock: FakeClock) -> None:
    ada = _session(create_user("ada"))
    cache.put("a", ada, until=clock.now() + timedelta(seconds=2), ticket=cache.ticket())
    clock.advance(timedelta(seconds=2))
    assert cache.get("a") is None
    cache.put("b", ada, until=clock.now(), ticket=cache.ticket())
    assert cache.get("b") is None


@pytest.mark.parametrize(
    ("revocation", "dropped"),
    [
        ("key", {"ada-key"}),
        ("session", {"ada-session"}),
        ("membership", {"ada-key", "ada-session"}),
        ("user", {"ada-key", "ada-other-key", "ada-session"}),
        ("missed", {"ada-key", "ada-other-key", "ada-session", "bob-key"}),
    ],
)
def test_a_revocation_drops_what_it_concerns_and_nothing_else(
    cache: PrincipalCache, clock: FakeClock, revocation: str, dropped: set[str]
) -> None:
    ada, bob = create_user("ada"), create_user("bob")
    org, other_org = OrgId(new_id()), OrgId(new_id())
    held = {
        "ada-key": _key(ada, org),
        "ada-other-key": _key(ada, other_org),
        "ada-session": _session(ada),
        "bob-key": _key(bob, org),
    }
    for key, principal in held.items():
        _remember(cache, key, principal, clock)
    kinds: dict[str, Revocation] = {
        "key": ApiKeyRevoked(_key_id(held["ada-key"])),
        "session": SessionRevoked(_session_id(held["ada-session"])),
        "membership": MembershipChanged(ada.id_, org),
        "user": UserChanged(ada.id_),
        "missed": RevocationsMissed(),
    }
    cache.forget([kinds[revocation]])
    assert {key for key in held if cache.get(key) is None} == dropped


def test_nothing_is_reused_or_kept_while_revocations_are_not_heard(
    cache: PrincipalCache, clock: FakeClock, listening: Listening
) -> None:
    ada = _session(create_user("ada"))
    _remember(cache, "a", ada, clock)
    listening.up = False
    assert cache.get("a") is None
    assert cache.ticket() is None
    cache.put("b", ada, until=clock.now() + TTL, ticket=None)
    listening.up = True
    assert cache.get("b") is None


def test_a_read_that_raced_a_revocation_is_not_kept(
    cache: PrincipalCache, clock: FakeClock
) -> None:
    ada = _session(create_user("ada"))
    ticket = cache.ticket()  # the authenticator starts reading the session
    cache.forget([SessionRevoked(_session_id(ada))])
    cache.put("a", ada, until=clock.now() + TTL, ticket=ticket)
    assert cache.get("a") is None


def test_a_read_that_raced_any_later_revocation_is_not_kept_either(
    cache: PrincipalCache, clock: FakeClock
) -> None:
    ada = _session(create_user("ada"))
    for _ in range(3):  # revocations of others, before the read
        cache.forget([SessionRevoked(SessionId(new_id()))])
    ticket = cache.ticket()
    cache.forget([SessionRevoked(_session_id(ada))])
    cache.put("a", ada, until=clock.now() + TTL, ticket=ticket)
    assert cache.get("a") is None


def test_a_cache_with_no_ttl_keeps_nothing(clock: FakeClock, listening: Listening) -> None:
    cache = PrincipalCache(clock, timedelta(0))
    cache.follow_while(listening)
    assert cache.ticket() is None


def test_past_its_capacity_the_oldest_goes_first(clock: FakeClock, listening: Listening) -> None:
    cache = PrincipalCache(clock, TTL, capacity=2)
    cache.follow_while(listening)
    ada = _session(create_user("ada"))
    for key in ("first", "second", "third"):
        _remember(cache, key, ada, clock)
    assert [cache.get(key) is not None for key in ("first", "second", "third")] == [
        False,
        True,
        True,
    ]


@pytest.fixture
async def followed(
    clock: FakeClock,
) -> AsyncIterator[tuple[PrincipalCache, InProcessAccessRevocations]]:
    channel = InProcessAccessRevocations()
    cache = PrincipalCache(clock, TTL)
    follower = PrincipalCacheFollower(cache, channel)
    follower.start()
    try:
        await until(lambda: cache.ticket() is not None, "the follower subscribed")
        yield cache, channel
    finally:
        await follower.aclose()


async def test_an_announcement_from_another_server_drops_the_entry_and_only_it(
    followed: tuple[PrincipalCache, InProcessAccessRevocations], clock: FakeClock
) -> None:
    cache, channel = followed
    ada, bob = _session(create_user("ada")), _session(create_user("bob"))
    _remember(cache, "a", ada, clock)
    _remember(cache, "b", bob, clock)
    await channel.publish([SessionRevoked(_session_id(ada))])
    await until(lambda: cache.get("a") is None, "the entry dropped")
    assert cache.get("b") == bob  # the others stay, and the cache is still followed:
    await channel.publish([SessionRevoked(_session_id(bob))])
    await until(lambda: cache.get("b") is None, "the next announcement heard")
    assert cache.ticket() is not None


async def test_an_announcement_made_here_drops_the_entry_before_it_leaves(
    followed: tuple[PrincipalCache, InProcessAccessRevocations], clock: FakeClock
) -> None:
    cache, channel = followed
    ada = _session(create_user("ada"))
    _remember(cache, "a", ada, clock)

    class Watching(InProcessAccessRevocations):
        seen_cached: bool | None = None

        async def publish(self, revocations: Sequence[Revocation]) -> None:
            self.seen_cached = cache.get("a") is not None
            await channel.publish(revocations)

    inner = Watching()
    await EvictingRevocations(inner, cache).publish([UserChanged(ada.user.id_)])
    assert inner.seen_cached is False


class Unreachable(InProcessAccessRevocations):
    """The in-process channel, which cannot be subscribed to while ``down`` (Redis away as the
    server starts)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.attempts = 0

    def subscribe(self) -> AbstractAsyncContextManager[RevocationSubscription]:
        self.attempts += 1
        if self.down:
            return Refused("Redis cannot be reached.")
        return super().subscribe()


async def test_the_cache_is_used_again_once_revocations_are_heard(clock: FakeClock) -> None:
    """Revocations that cannot be heard leave the cache off, and the follower goes on trying:
    once they are heard, credentials are remembered again."""
    channel = Unreachable()
    cache = PrincipalCache(clock, TTL)
    follower = PrincipalCacheFollower(cache, channel, retry_every=timedelta(milliseconds=10))
    follower.start()
    try:
        await until(lambda: channel.attempts >= 3, "the follower tried again")
        assert cache.ticket() is None
        channel.down = False
        await until(lambda: cache.ticket() is not None, "the follower subscribed")
    finally:
        await follower.aclose()


async def test_when_following_stops_nothing_is_reused(
    clock: FakeClock,
) -> None:
    channel = InProcessAccessRevocations()
    cache = PrincipalCache(clock, TTL)
    follower = PrincipalCacheFollower(cache, channel)
    follower.start()
    await until(lambda: cache.ticket() is not None, "the follower subscribed")
    _remember(cache, "a", _session(create_user("ada")), clock)
    await follower.aclose()
    assert cache.get("a") is None
    assert cache.ticket() is None


def _member_org(user: User) -> MemberOrganization:
    org, owner = create_org(user)
    return MemberOrganization(organization=org, role=owner.role)


def test_an_active_org_is_kept_for_the_ttl_and_dropped_by_what_concerns_it(
    cache: PrincipalCache, clock: FakeClock, listening: Listening
) -> None:
    ada, bob = create_user("ada"), create_user("bob")
    adas, bobs = _member_org(ada), _member_org(bob)
    for user, org in ((ada, adas), (bob, bobs)):
        cache.put_org(user.id_, org.organization.id_, org, ticket=cache.ticket())
        cache.put_org(user.id_, None, org, ticket=cache.ticket())
    clock.advance(TTL - timedelta(milliseconds=1))
    assert cache.get_org(ada.id_, adas.organization.id_) == adas

    cache.forget([MembershipChanged(ada.id_, adas.organization.id_)])
    assert cache.get_org(ada.id_, adas.organization.id_) is None
    assert cache.get_org(ada.id_, None) is None  # the personal one named by default, too
    assert cache.get_org(bob.id_, None) == bobs
    cache.forget([UserChanged(bob.id_)])
    assert cache.get_org(bob.id_, bobs.organization.id_) is None

    cache.put_org(bob.id_, None, bobs, ticket=cache.ticket())
    listening.up = False
    assert cache.get_org(bob.id_, None) is None
    listening.up = True
    clock.advance(TTL)
    assert cache.get_org(bob.id_, None) is None


def test_an_active_org_read_that_raced_a_revocation_is_not_kept(cache: PrincipalCache) -> None:
    ada = create_user("ada")
    adas = _member_org(ada)
    ticket = cache.ticket()
    cache.forget([RevocationsMissed()])
    cache.put_org(ada.id_, None, adas, ticket=ticket)
    assert cache.get_org(ada.id_, None) is None


def test_an_active_org_is_dropped_by_a_missed_announcement_and_kept_by_unrelated_ones(
    cache: PrincipalCache,
) -> None:
    """A missed announcement drops every remembered membership; announcements about another
    credential, another member of the organization or another organization drop none."""
    ada, bob = create_user("ada"), create_user("bob")
    adas = _member_org(ada)
    shared = adas.organization.id_
    cache.put_org(ada.id_, shared, adas, ticket=cache.ticket())
    unrelated: list[Revocation] = [
        ApiKeyRevoked(ApiKeyId(new_id())),
        SessionRevoked(SessionId(new_id())),
        MembershipChanged(bob.id_, shared),
        MembershipChanged(ada.id_, OrgId(new_id())),
        UserChanged(bob.id_),
    ]
    for revocation in unrelated:
        cache.forget([revocation])
        assert cache.get_org(ada.id_, shared) == adas, revocation
    cache.forget([RevocationsMissed()])
    assert cache.get_org(ada.id_, shared) is None


def test_remembering_a_credential_again_makes_it_the_newest(
    clock: FakeClock, listening: Listening
) -> None:
    cache = PrincipalCache(clock, TTL, capacity=3)
    cache.follow_while(listening)
    ada = _session(create_user("ada"))
    for key in ("first", "second", "first", "third", "fourth"):
        _remember(cache, key, ada, clock)
    kept = [cache.get(key) is not None for key in ("first", "second", "third", "fourth")]
    assert kept == [True, False, True, True]
