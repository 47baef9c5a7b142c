"""The AccessRevocations contract, over the fake (the in-process adapter, recording) and the
Redis one: a subscriber gets what is announced after it subscribed, in order; every
subscriber gets it; a reader that fell far behind is told it missed some. Redis alone: two
adapters on one Redis stand in for two servers, an unreachable Redis never fails the
announcing use case, and a broken connection is reported as revocations missed, then healed."""

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.redis import RedisAccessRevocations
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
from domain.identity.api_keys import ApiKeyId
from domain.identity.entities import UserId
from domain.identity.sessions import SessionId
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id
from tests.conftest import REDIS_URL
from tests.fakes import FakeAccessRevocations
from tests.support.ports import closed_port


class RedisServers:
    """Revocation adapters of as many "servers" as a test wants, on one Redis and a channel of
    this test's own."""

    def __init__(self) -> None:
        self.channel = f"maestrist-test:{secrets.token_hex(8)}:revoked"
        self.clients: list[Redis] = []
        self.adapters: list[RedisAccessRevocations] = []

    def start(
        self, *, name: str | None = None, url: str = REDIS_URL, own_channel: bool = True
    ) -> RedisAccessRevocations:
        """``own_channel=False``: the channel a deployment on ``url``'s database uses."""
        client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, client_name=name)
        adapter = RedisAccessRevocations(client, channel=self.channel if own_channel else None)
        self.clients.append(client)
        self.adapters.append(adapter)
        return adapter


@pytest.fixture
async def redis_servers() -> AsyncIterator[RedisServers]:
    servers = RedisServers()
    try:
        yield servers
    finally:
        for adapter in servers.adapters:
            await adapter.aclose()
        for client in servers.clients:
            await client.aclose()


@pytest.fixture(params=["fake", pytest.param("redis", marks=pytest.mark.redis)])
def sut(request: pytest.FixtureRequest) -> AccessRevocations:
    if request.param == "fake":
        return FakeAccessRevocations()
    servers: RedisServers = request.getfixturevalue("redis_servers")
    return servers.start()


def some_of_each() -> list[Revocation]:
    return [
        ApiKeyRevoked(ApiKeyId(new_id())),
        SessionRevoked(SessionId(new_id())),
        MembershipChanged(UserId(new_id()), OrgId(new_id())),
        UserChanged(UserId(new_id())),
    ]


async def take(subscription: RevocationSubscription, count: int) -> list[Revocation]:
    """The next ``count`` revocations; the deadline only keeps a broken adapter from hanging."""
    reader = aiter(subscription)
    return [await asyncio.wait_for(anext(reader), 5) for _ in range(count)]


async def test_a_subscriber_gets_what_is_announced_after_it_subscribed(
    sut: AccessRevocations,
) -> None:
    await sut.publish(some_of_each())  # before anyone listens: nobody gets it
    announced = some_of_each()
    async with sut.subscribe() as first, sut.subscribe() as second:
        assert sut.listening()
        await sut.publish(announced[:1])
        await sut.publish(announced[1:])
        assert await take(first, len(announced)) == announced
        assert await take(second, len(announced)) == announced


async def test_announcing_nothing_is_harmless(sut: AccessRevocations) -> None:
    async with sut.subscribe() as subscription:
        await sut.publish([])
        last = some_of_each()[:1]
        await sut.publish(last)
        assert await take(subscription, 1) == last


async def test_a_reader_far_behind_is_told_it_missed_some(sut: AccessRevocations) -> None:
    async with sut.subscribe() as subscription:
        await sut.publish([r for _ in range(40) for r in some_of_each()])
        [first] = await take(subscription, 1)
        assert first == RevocationsMissed()
        later = some_of_each()
        await sut.publish(later)
        assert await take(subscription, len(later)) == later


@pytest.mark.redis
async def test_an_announcement_on_one_server_reaches_the_others(
    redis_servers: RedisServers,
) -> None:
    here, there = redis_servers.start(), redis_servers.start()
    announced = some_of_each()
    async with there.subscribe() as far, here.subscribe() as near:
        await here.publish(announced)
        assert await take(far, len(announced)) == announced
        assert await take(near, len(announced)) == announced


@pytest.mark.redis
async def test_deployments_on_other_databases_of_one_redis_do_not_hear_each_other(
    redis_servers: RedisServers,
) -> None:
    """Pub/sub ignores database numbers; the default channel names the database. What one
    deployment announces is not heard by one on another database: Redis delivers in the order
    it was told, so the marker announced after it arrives alone."""
    base = REDIS_URL.rsplit("/", 1)[0]
    here = redis_servers.start(url=f"{base}/13", own_channel=False)
    peer = redis_servers.start(url=f"{base}/13", own_channel=False)
    other = redis_servers.start(url=f"{base}/14", own_channel=False)
    revoked, marker = ApiKeyRevoked(ApiKeyId(new_id())), ApiKeyRevoked(ApiKeyId(new_id()))
    async with other.subscribe() as elsewhere, peer.subscribe() as alongside:
        await here.publish([revoked])
        await other.publish([marker])
        assert await take(alongside, 1) == [revoked]
        heard = await take(elsewhere, 1)
    assert heard == [marker]


@pytest.mark.redis
async def test_an_unreachable_redis_never_fails_the_announcement(
    redis_servers: RedisServers,
) -> None:
    unreachable = redis_servers.start(url=f"redis://127.0.0.1:{closed_port()}/0")
    await unreachable.publish(some_of_each())
    assert not unreachable.listening()
    with pytest.raises(DependencyUnavailableError):
        async with unreachable.subscribe():
            pass
    assert not unreachable.listening()


@pytest.mark.redis
async def test_a_broken_connection_is_reported_as_missed_then_heals(
    redis_servers: RedisServers,
) -> None:
    name = f"revocations-{secrets.token_hex(6)}"
    announcer, listener = redis_servers.start(), redis_servers.start(name=name)
    async with listener.subscribe() as subscription:
        admin = redis_servers.clients[0]
        listed = await admin.client_list(_type="pubsub")
        ids = [found["id"] for found in listed if found["name"] == name]
        assert len(ids) == 1
        await admin.client_kill_filter(_id=ids[0])
        heard: asyncio.Queue[Revocation] = asyncio.Queue()
        collecting = asyncio.create_task(_collect(subscription, heard))
        try:
            assert await asyncio.wait_for(heard.get(), 5) == RevocationsMissed()
            # Listening again, at some point: announce until one arrives.
            deadline = asyncio.get_running_loop().time() + 10
            while True:
                probe = some_of_each()[0]
                await announcer.publish([probe])
                if await _heard_within(heard, probe, 0.5):
                    break
                assert asyncio.get_running_loop().time() < deadline, "never listening again"
            assert listener.listening()
            later = some_of_each()
            await announcer.publish(later)
            assert [await asyncio.wait_for(heard.get(), 5) for _ in later] == later
        finally:
            collecting.cancel()


async def _collect(subscription: RevocationSubscription, into: asyncio.Queue[Revocation]) -> None:
    async for revocation in subscription:
        into.put_nowait(revocation)


async def _heard_within(heard: asyncio.Queue[Revocation], wanted: Revocation, s: float) -> bool:
    """Whether ``wanted`` arrives within ``s`` seconds (what comes before it is dropped)."""
    try:
        async with asyncio.timeout(s):
            while await heard.get() != wanted:
                pass
    except TimeoutError:
        return False
    return True
