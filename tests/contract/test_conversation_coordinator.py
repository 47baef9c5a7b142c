"""The ConversationCoordinator contract, over the in-process adapter (which is also the fake)
and the Redis one: one owner per conversation, fences that grow, a lost lease noticed, live
fan-out in order, and a slow subscriber cut off without holding up the others. Redis alone:
two coordinators on one Redis stand in for two servers."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from adapters.memory import InProcessConversationCoordinator
from adapters.redis import RedisConversationCoordinator, create_redis_client
from application.errors import DependencyUnavailableError
from application.ports.conversation_coordinator import (
    ConversationCoordinator,
    Lease,
    LeaseLostError,
    SubscriberTooSlowError,
)
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.shared.ids import new_id
from tests.conftest import REDIS_URL
from tests.factories import T0

SHORT_TTL = timedelta(milliseconds=300)

Seize = Callable[[ConversationId], Awaitable[Lease]]


class RedisServers:
    """Coordinators of as many "servers" as a test wants, on one Redis and one key prefix of
    this test's own."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.clients: list[Redis] = []
        self.coordinators: list[RedisConversationCoordinator] = []

    def start(
        self,
        *,
        lease_ttl: timedelta = timedelta(seconds=10),
        renew: bool = True,
        name: str | None = None,
    ) -> RedisConversationCoordinator:
        client = (
            create_redis_client(REDIS_URL, timeout_s=2, max_connections=20)
            if name is None
            else Redis.from_url(REDIS_URL, socket_timeout=2, client_name=name)
        )
        coordinator = RedisConversationCoordinator(
            client,
            lease_ttl=lease_ttl,
            renew_every=None if renew else timedelta(hours=1),
            prefix=self.prefix,
        )
        self.clients.append(client)
        self.coordinators.append(coordinator)
        return coordinator


@pytest.fixture
async def redis_servers() -> AsyncIterator[RedisServers]:
    servers = RedisServers(f"maestrist-test:{secrets.token_hex(8)}:conversation:")
    try:
        yield servers
    finally:
        for coordinator in servers.coordinators:
            await coordinator.aclose()
        if servers.clients:
            first = servers.clients[0]
            leftovers = [key async for key in first.scan_iter(match=f"{servers.prefix}*")]
            if leftovers:
                await first.delete(*leftovers)
        for client in servers.clients:
            await client.aclose()


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def sut(request: pytest.FixtureRequest) -> ConversationCoordinator:
    if request.param == "in-process":
        return InProcessConversationCoordinator()
    servers: RedisServers = request.getfixturevalue("redis_servers")
    return servers.start()


@pytest.fixture
def seize(sut: ConversationCoordinator, request: pytest.FixtureRequest) -> Seize:
    """Take a conversation over from whoever holds it, as another server does once the
    holder's lease expired."""
    if isinstance(sut, InProcessConversationCoordinator):
        in_process = sut

        async def seize_in_process(cid: ConversationId) -> Lease:
            return in_process.seize(cid, owner="another-server")

        return seize_in_process
    servers: RedisServers = request.getfixturevalue("redis_servers")
    other = servers.start()

    async def seize_in_redis(cid: ConversationId) -> Lease:
        first = servers.clients[0]
        await first.delete(f"{servers.prefix}{{{cid}}}:lease")  # as if it had expired
        lease = await other.acquire(cid)
        assert lease is not None
        return lease

    return seize_in_redis


def stored(conversation_id: ConversationId, seq: int) -> StoredEvent:
    return StoredEvent(
        conversation_id=conversation_id,
        seq=seq,
        event_id=f"e{seq}",
        kind="MessageEvent",
        source="agent",
        type=EventType.MESSAGE,
        occurred_at=T0,
        payload={},
    )


async def test_one_owner_at_a_time_with_growing_fences(sut: ConversationCoordinator) -> None:
    cid = ConversationId(new_id())
    first = await sut.acquire(cid)
    assert first is not None
    assert await sut.acquire(cid) is None
    await sut.ensure_current(first)
    await sut.release(first)
    second = await sut.acquire(cid)
    assert second is not None
    assert second.fence > first.fence
    with pytest.raises(LeaseLostError):
        await sut.ensure_current(first)
    await sut.release(first)  # a lost lease releases nothing
    assert await sut.acquire(cid) is None
    other = await sut.acquire(ConversationId(new_id()))
    assert other is not None


async def test_a_lease_taken_over_is_lost(sut: ConversationCoordinator, seize: Seize) -> None:
    cid = ConversationId(new_id())
    mine = await sut.acquire(cid)
    assert mine is not None
    theirs = await seize(cid)
    assert theirs.fence > mine.fence
    with pytest.raises(LeaseLostError):
        await sut.ensure_current(mine)
    await sut.ensure_current(theirs)


async def test_subscribers_get_what_is_published_in_order(sut: ConversationCoordinator) -> None:
    cid, elsewhere = ConversationId(new_id()), ConversationId(new_id())
    await sut.publish(cid, [stored(cid, 1)])  # before anyone listens: gone
    async with sut.subscribe(cid, buffer=10) as one, sut.subscribe(cid, buffer=10) as two:
        await sut.publish(elsewhere, [stored(elsewhere, 1)])
        await sut.publish(cid, [stored(cid, 2), stored(cid, 3)])
        await sut.publish(cid, [stored(cid, 4)])
        for subscription in (one, two):
            reader = aiter(subscription)
            got = [(await anext(reader)).seq for _ in range(3)]
            assert got == [2, 3, 4]


async def test_a_slow_subscriber_is_cut_off_and_never_blocks_others(
    sut: ConversationCoordinator,
) -> None:
    cid = ConversationId(new_id())
    async with sut.subscribe(cid, buffer=3) as slow, sut.subscribe(cid, buffer=100) as fast:
        for seq in range(1, 11):
            await asyncio.wait_for(sut.publish(cid, [stored(cid, seq)]), 1)
        reader = aiter(fast)
        assert [(await anext(reader)).seq for _ in range(10)] == list(range(1, 11))
        with pytest.raises(SubscriberTooSlowError) as cut:
            async for _ in slow:
                pass
        assert cut.value.buffered == 3


async def test_a_waiting_subscriber_wakes_on_publish(sut: ConversationCoordinator) -> None:
    cid = ConversationId(new_id())
    async with sut.subscribe(cid, buffer=5) as live:

        async def first() -> StoredEvent:
            async for event in live:
                return event
            raise AssertionError("the subscription ended")

        waiting = asyncio.create_task(first())
        await asyncio.sleep(0)
        await sut.publish(cid, [stored(cid, 7)])
        assert (await asyncio.wait_for(waiting, 1)).seq == 7


# Redis alone: two coordinators on one Redis are two servers.


@pytest.mark.redis
async def test_a_second_server_takes_over_an_expired_lease_with_a_greater_fence(
    redis_servers: RedisServers,
) -> None:
    first = redis_servers.start(lease_ttl=SHORT_TTL, renew=False)  # a server that hangs
    second = redis_servers.start(lease_ttl=SHORT_TTL)
    cid = ConversationId(new_id())
    mine = await first.acquire(cid)
    assert mine is not None
    assert mine.owner == first.owner != second.owner
    assert await second.acquire(cid) is None
    assert await first.acquire(cid) is None  # not twice on one server either
    await asyncio.sleep(SHORT_TTL.total_seconds() * 2)
    theirs = await second.acquire(cid)
    assert theirs is not None
    assert theirs.owner == second.owner
    assert theirs.fence > mine.fence
    with pytest.raises(LeaseLostError):
        await first.ensure_current(mine)  # the stale owner notices before it appends
    await first.release(mine)  # and releases nothing of the new owner's
    assert await first.acquire(cid) is None
    await second.ensure_current(theirs)


@pytest.mark.redis
async def test_a_live_owner_keeps_its_lease_past_the_time_to_live(
    redis_servers: RedisServers,
) -> None:
    owner = redis_servers.start(lease_ttl=SHORT_TTL)
    other = redis_servers.start(lease_ttl=SHORT_TTL)
    cid = ConversationId(new_id())
    lease = await owner.acquire(cid)
    assert lease is not None
    await asyncio.sleep(SHORT_TTL.total_seconds() * 4)
    assert await other.acquire(cid) is None
    await owner.ensure_current(lease)


@pytest.mark.redis
async def test_a_server_shutting_down_hands_its_leases_back(
    redis_servers: RedisServers,
) -> None:
    leaving, staying = redis_servers.start(), redis_servers.start()
    cid = ConversationId(new_id())
    lease = await leaving.acquire(cid)
    assert lease is not None
    await leaving.aclose()
    taken = await staying.acquire(cid)
    assert taken is not None
    assert taken.fence > lease.fence


@pytest.mark.redis
async def test_fences_keep_growing_when_the_counter_is_lost(
    redis_servers: RedisServers,
) -> None:
    server = redis_servers.start()
    cid = ConversationId(new_id())
    before = await server.acquire(cid)
    assert before is not None
    await server.release(before)
    await redis_servers.clients[0].delete(f"{redis_servers.prefix}{{{cid}}}:fence")
    after = await server.acquire(cid)
    assert after is not None
    assert after.fence > before.fence


@pytest.mark.redis
async def test_a_publish_on_one_server_reaches_subscribers_on_another_whole_and_in_order(
    redis_servers: RedisServers,
) -> None:
    owner, watcher = redis_servers.start(), redis_servers.start()
    cid = ConversationId(new_id())
    event = StoredEvent(
        conversation_id=cid,
        seq=1,
        event_id="e1",
        kind="ActionEvent",
        source="agent",
        type=EventType.ACTION,
        occurred_at=T0,
        payload={"tool": "bash", "args": {"command": "ls"}, "nested": [1, 2.5, None, True]},
    )
    async with (
        watcher.subscribe(cid, buffer=100) as there,
        owner.subscribe(cid, buffer=100) as here,
    ):
        await owner.publish(cid, [event])
        for seq in range(2, 51):
            await owner.publish(cid, [stored(cid, seq)])
        for subscription in (there, here):
            reader = aiter(subscription)
            first = await asyncio.wait_for(anext(reader), 2)
            assert first == event
            rest = [(await asyncio.wait_for(anext(reader), 2)).seq for _ in range(49)]
            assert rest == list(range(2, 51))


@pytest.mark.redis
async def test_subscribers_leaving_unsubscribe_and_others_stay(
    redis_servers: RedisServers,
) -> None:
    owner, watcher = redis_servers.start(), redis_servers.start()
    cid = ConversationId(new_id())
    async with watcher.subscribe(cid, buffer=10) as staying:
        async with watcher.subscribe(cid, buffer=10):
            pass
        await owner.publish(cid, [stored(cid, 1)])
        assert (await asyncio.wait_for(anext(aiter(staying)), 2)).seq == 1
    async with watcher.subscribe(cid, buffer=10) as again:  # the channel is taken up anew
        await owner.publish(cid, [stored(cid, 2)])
        assert (await asyncio.wait_for(anext(aiter(again)), 2)).seq == 2


@pytest.mark.redis
async def test_a_broken_pubsub_connection_ends_its_subscribers(
    redis_servers: RedisServers,
) -> None:
    name = f"watcher-{secrets.token_hex(6)}"
    owner, watcher = redis_servers.start(), redis_servers.start(name=name)
    cid = ConversationId(new_id())
    async with watcher.subscribe(cid, buffer=10) as live:
        admin = redis_servers.clients[0]
        channel = f"{redis_servers.prefix}{{{cid}}}:events"
        assert await admin.pubsub_numsub(channel) == [(channel.encode(), 1)]
        listed = await admin.client_list(_type="pubsub")
        ids = [found["id"] for found in listed if found["name"] == name]
        assert len(ids) == 1
        await admin.client_kill_filter(_id=ids[0])

        async def drain() -> None:
            async for _ in live:
                pass

        with pytest.raises(DependencyUnavailableError):
            await asyncio.wait_for(drain(), 5)
    async with watcher.subscribe(cid, buffer=10) as again:  # a reconnect works
        await owner.publish(cid, [stored(cid, 3)])
        assert (await asyncio.wait_for(anext(aiter(again)), 2)).seq == 3
