"""The EventFanOut contract, over the in-process adapter (which is also the fake) and the Redis
one: live fan-out in order, and a slow subscriber cut off without holding up the others. Redis
alone: two adapters on one Redis stand in for two servers."""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.memory import InProcessEventFanOut
from adapters.redis import RedisEventFanOut
from application.errors import DependencyUnavailableError
from application.ports.event_fan_out import EventFanOut, SubscriberTooSlowError
from application.tasks import cancel_and_wait
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.shared.ids import new_id
from tests.factories import T0
from tests.factories import create_stored_event as stored
from tests.support.polling import GENEROUS_S
from tests.support.redis_servers import RedisServers, redis_servers
from tests.support.unanswering_redis import unanswering_redis


def start(servers: RedisServers, *, name: str | None = None) -> RedisEventFanOut:
    return servers.started(RedisEventFanOut(servers.client(name), prefix=servers.prefix))


@pytest.fixture
async def servers() -> AsyncIterator[RedisServers]:
    async with redis_servers() as started:
        yield started


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def sut(request: pytest.FixtureRequest) -> EventFanOut:
    if request.param == "in-process":
        return InProcessEventFanOut()
    return start(request.getfixturevalue("servers"))


async def test_subscribers_get_what_is_published_in_order(sut: EventFanOut) -> None:
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


async def test_a_slow_subscriber_is_cut_off_and_never_blocks_others(sut: EventFanOut) -> None:
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


async def test_a_waiting_subscriber_wakes_on_publish(sut: EventFanOut) -> None:
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


# Redis alone: two adapters on one Redis are two servers.


@pytest.mark.redis
async def test_a_publish_on_one_server_reaches_subscribers_on_another_whole_and_in_order(
    servers: RedisServers,
) -> None:
    owner, watcher = start(servers), start(servers)
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
async def test_subscribers_leaving_unsubscribe_and_others_stay(servers: RedisServers) -> None:
    owner, watcher = start(servers), start(servers)
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
async def test_subscribers_abandoning_before_redis_confirms_leave_the_channel_working(
    servers: RedisServers,
) -> None:
    """A subscriber gone before its SUBSCRIBE is answered, and another arriving at once: the
    answers to both come in order, only the last one makes the channel live, and the one who
    stays gets every event."""
    owner, watcher = start(servers), start(servers)
    cid = ConversationId(new_id())

    async def abandoned() -> None:
        async with watcher.subscribe(cid, buffer=10):
            await asyncio.Event().wait()

    async with watcher.subscribe(cid, buffer=10):  # the pub/sub connection is open
        pass
    for seq in range(1, 31):
        leaving = asyncio.create_task(abandoned())
        for _ in range(seq % 4):  # its SUBSCRIBE sent, or not yet
            await asyncio.sleep(0)
        # (Python 3.11's wait_for, inside redis-py, can drop one cancellation: cancel until
        # it ends, as the server does)
        await cancel_and_wait(leaving)
        async with watcher.subscribe(cid, buffer=10) as staying:
            await owner.publish(cid, [stored(cid, seq)])
            assert (await asyncio.wait_for(anext(aiter(staying)), 2)).seq == seq


@pytest.mark.redis
async def test_a_broken_pubsub_connection_ends_its_subscribers(servers: RedisServers) -> None:
    name = f"watcher-{secrets.token_hex(6)}"
    owner, watcher = start(servers), start(servers, name=name)
    cid = ConversationId(new_id())
    async with watcher.subscribe(cid, buffer=10) as live:
        admin = servers.clients[0]
        channel = f"{servers.prefix}{{{cid}}}:events"
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


@pytest.mark.redis
async def test_a_pubsub_connection_reestablished_behind_our_back_ends_its_subscribers(
    servers: RedisServers,
) -> None:
    """A pub/sub connection dropped under the reader (redis-py would reconnect and subscribe
    again by itself): what was published in between never arrived, so the subscribers are told
    rather than left with a silent gap, and the next subscriber takes the channel up anew."""
    owner, watcher = start(servers), start(servers)
    cid = ConversationId(new_id())
    async with watcher.subscribe(cid, buffer=10) as live:
        await owner.publish(cid, [stored(cid, 1)])
        reader = aiter(live)
        assert (await asyncio.wait_for(anext(reader), 2)).seq == 1
        pubsub = watcher._pubsub  # the connection a network fault would drop
        assert pubsub is not None
        connection: Any = pubsub.connection  # typed None until connected
        await connection.disconnect()
        await owner.publish(cid, [stored(cid, 2)])  # lost: nobody is connected
        with pytest.raises(DependencyUnavailableError):
            await asyncio.wait_for(anext(reader), 5)
    async with watcher.subscribe(cid, buffer=10) as again:
        await owner.publish(cid, [stored(cid, 3)])
        assert (await asyncio.wait_for(anext(aiter(again)), 2)).seq == 3


@pytest.mark.redis
async def test_hundreds_of_subscribers_of_a_conversation_share_one_subscription(
    servers: RedisServers,
) -> None:
    """A server fans out in process: 300 subscribers of one conversation are one channel
    subscription on one pub/sub connection of that server, and each gets every event."""
    name = f"watcher-{secrets.token_hex(6)}"
    owner, watcher = start(servers), start(servers, name=name)
    cid = ConversationId(new_id())
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = await asyncio.gather(
            *(stack.enter_async_context(watcher.subscribe(cid, buffer=10)) for _ in range(300))
        )
        admin = servers.clients[0]
        channel = f"{servers.prefix}{{{cid}}}:events"
        assert await admin.pubsub_numsub(channel) == [(channel.encode(), 1)]
        listed = await admin.client_list(_type="pubsub")
        assert [found["name"] for found in listed].count(name) == 1
        await owner.publish(cid, [stored(cid, 1), stored(cid, 2)])
        for subscription in subscriptions:
            reader = aiter(subscription)
            got = [(await asyncio.wait_for(anext(reader), 2)).seq for _ in range(2)]
            assert got == [1, 2]


@pytest.mark.redis
async def test_events_an_earlier_release_publishes_reach_this_ones_subscribers(
    servers: RedisServers,
) -> None:
    """Servers of two releases share Redis during a rolling upgrade, so the channel's name and
    its messages are part of the protocol: under its default names this release hears a message
    as an earlier server published it (its bytes written out here), and publishes the same
    shape. (Tests elsewhere use prefixes of their own.)"""
    client = servers.client()
    current = servers.started(RedisEventFanOut(client))
    cid = ConversationId(new_id())
    channel = f"maestrist:conversation:{{{cid}}}:events"
    earlier = (
        b'{"events":[{"seq":7,"event_id":"e7","kind":"MessageEvent","source":"agent",'
        b'"type":"message","occurred_at":"2026-01-01T00:00:00Z","payload":{"text":"hi"}}]}'
    )
    listener = client.pubsub()
    await listener.subscribe(channel)
    try:
        async with current.subscribe(cid, buffer=10) as live:
            assert await client.publish(channel, earlier) == 2  # the listener and this server
            event = await asyncio.wait_for(anext(aiter(live)), 5)
            assert (event.seq, event.event_id, event.kind, event.source) == (
                7,
                "e7",
                "MessageEvent",
                "agent",
            )
            assert (event.type, event.occurred_at, dict(event.payload)) == (
                EventType.MESSAGE,
                datetime(2026, 1, 1, tzinfo=UTC),
                {"text": "hi"},
            )
            await current.publish(cid, [event])
        heard: list[bytes] = []
        async with asyncio.timeout(5):
            while len(heard) < 2:
                message = await listener.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    heard.append(message["data"])
        assert heard == [earlier, earlier]
    finally:
        await listener.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


async def test_a_subscription_redis_never_confirms_fails_in_its_time() -> None:
    """A Redis that takes the SUBSCRIBE and never answers it: the subscriber is told so once
    the confirmation's time is out, instead of waiting (and holding its socket) for ever."""
    async with unanswering_redis() as url:
        client = Redis.from_url(url)  # no socket timeout: only the confirmation's bounds it
        fan_out = RedisEventFanOut(client, confirm_timeout=timedelta(milliseconds=200))
        try:
            async with asyncio.timeout(GENEROUS_S):
                with pytest.raises(DependencyUnavailableError, match="did not confirm"):
                    async with fan_out.subscribe(ConversationId(new_id()), buffer=1):
                        pass
        finally:
            await fan_out.aclose()
            await client.aclose()
