"""How the Redis fan-out reads Redis's answers on its pub/sub connection, message by message:
which SUBSCRIBE answer makes a channel live, and what a subscription answered a second time
(redis-py subscribed again after reconnecting on its own) does to the subscribers. The
contract suite drives the same code over a real Redis, where the order of these answers
cannot be forced."""

import asyncio
from collections.abc import Callable
from typing import cast

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.memory.bounded_subscriber import BoundedSubscriber
from adapters.redis.event_fan_out import RedisEventFanOut, _Channel
from application.errors import DependencyUnavailableError
from domain.conversations.value_objects import ConversationId
from domain.shared.ids import new_id
from tests.support.ports import closed_port

NAME = b"c:{x}:events"


def subscribed(name: bytes = NAME) -> dict[str, object]:
    return {"type": "subscribe", "pattern": None, "channel": name, "data": 1}


@pytest.fixture
def sut() -> RedisEventFanOut:
    return RedisEventFanOut(Redis(), prefix="c:")  # never connects: answers are fed by hand


def listen(sut: RedisEventFanOut, *, pending: int) -> tuple[_Channel, BoundedSubscriber]:
    """A channel with one subscriber and ``pending`` SUBSCRIBEs not yet answered."""
    channel = _Channel(ConversationId(new_id()))
    subscriber = BoundedSubscriber(10)
    channel.subscribers.add(subscriber)
    sut._channels[NAME] = channel
    if pending:
        sut._unconfirmed[NAME] = pending
    return channel, subscriber


async def test_only_the_answer_to_the_latest_subscribe_makes_the_channel_live(
    sut: RedisEventFanOut,
) -> None:
    channel, _ = listen(sut, pending=3)

    sut._dispatch(subscribed())
    assert (channel.confirmed.is_set(), sut._unconfirmed) == (False, {NAME: 2})
    sut._dispatch(subscribed())
    assert (channel.confirmed.is_set(), sut._unconfirmed) == (False, {NAME: 1})
    sut._dispatch(subscribed())
    assert (channel.confirmed.is_set(), sut._unconfirmed) == (True, {})
    assert channel.error is None


async def test_an_answer_for_a_channel_nobody_listens_to_any_more_changes_nothing(
    sut: RedisEventFanOut,
) -> None:
    sut._unconfirmed[NAME] = 1
    sut._dispatch(subscribed())
    assert sut._unconfirmed == {}
    sut._dispatch(subscribed(b"c:{other}:events"))  # never asked, nobody there
    assert sut._channels == {}


async def test_a_subscription_answered_again_ends_its_subscribers_who_missed_events(
    sut: RedisEventFanOut,
) -> None:
    channel, subscriber = listen(sut, pending=0)
    channel.confirmed.set()
    other, bystander = _Channel(ConversationId(new_id())), BoundedSubscriber(10)
    other.subscribers.add(bystander)
    sut._channels[b"c:{y}:events"] = other

    sut._dispatch(subscribed())  # redis-py reconnected and subscribed again by itself

    assert channel.subscribers == set()
    with pytest.raises(DependencyUnavailableError, match="interrupted"):
        await asyncio.wait_for(anext(aiter(subscriber)), 1)
    assert other.subscribers == {bystander}


async def test_a_subscribe_redis_refuses_leaves_nothing_pending_and_says_why() -> None:
    client = Redis(port=closed_port(), socket_connect_timeout=1)
    sut = RedisEventFanOut(client, prefix="c:")
    cid = ConversationId(new_id())
    try:
        for _ in range(2):  # a second attempt starts from a clean slate as well
            with pytest.raises(DependencyUnavailableError, match="Redis cannot be reached"):
                async with sut.subscribe(cid, buffer=10):
                    pass
            assert (sut._unconfirmed, sut._channels, sut._pubsub) == ({}, {}, None)
    finally:
        await client.aclose()


class HandPubSub:
    """A pub/sub connection that records the commands sent on it; ``fail`` makes the next
    SUBSCRIBE raise it (after ``meanwhile``, what the reader did while it was being sent),
    reading raise it, and closing raise ``closing_fails``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.fail: BaseException | None = None
        self.meanwhile: Callable[[], None] = lambda: None
        self.closing_fails: Exception | None = None
        self.closed = False

    async def subscribe(self, name: bytes) -> None:
        self.sent.append(("subscribe", name))
        self.meanwhile()
        if self.fail is not None:
            raise self.fail

    async def unsubscribe(self, name: bytes) -> None:
        self.sent.append(("unsubscribe", name))

    async def get_message(self, timeout: float) -> dict[str, object] | None:
        assert self.fail is not None
        raise self.fail

    async def aclose(self) -> None:
        self.closed = True
        if self.closing_fails is not None:
            raise self.closing_fails


def on(sut: RedisEventFanOut, pubsub: HandPubSub) -> None:
    sut._pubsub = cast("PubSub", pubsub)


async def test_subscribes_are_counted_until_answered_and_a_failed_one_uncounts_itself(
    sut: RedisEventFanOut,
) -> None:
    """A channel left and joined again before Redis answered its first SUBSCRIBE waits for
    both answers; a SUBSCRIBE that fails takes back its own count only, and one whose count
    the reader dropped meanwhile (the connection broke) still says Redis is unreachable."""
    pubsub = HandPubSub()
    on(sut, pubsub)
    await sut._subscribe_channel(NAME)
    for failure in (asyncio.CancelledError(), ConnectionError("reset")):
        pubsub.fail = failure
        with pytest.raises((asyncio.CancelledError, DependencyUnavailableError)):
            await sut._subscribe_channel(NAME)
        assert sut._unconfirmed == {NAME: 1}
    pubsub.fail = None
    await sut._subscribe_channel(NAME)
    assert sut._unconfirmed == {NAME: 2}

    pubsub.fail = ConnectionError("reset")
    pubsub.meanwhile = sut._unconfirmed.clear
    with pytest.raises(DependencyUnavailableError, match="Redis cannot be reached"):
        await sut._subscribe_channel(NAME)
    assert sut._unconfirmed == {}


async def test_the_last_subscriber_leaving_unsubscribes_and_without_a_connection_nothing_is_sent(
    sut: RedisEventFanOut,
) -> None:
    await sut._unsubscribe_channel(NAME)  # no connection: nothing to undo
    pubsub = HandPubSub()
    on(sut, pubsub)
    await sut._unsubscribe_channel(NAME)
    assert pubsub.sent == [("unsubscribe", NAME)]


async def test_a_broken_connection_fails_its_channels_and_is_closed_whatever_closing_raises(
    sut: RedisEventFanOut,
) -> None:
    for closing_fails in (None, RedisConnectionError("gone"), OSError("gone")):
        channel, subscriber = listen(sut, pending=1)
        pubsub = HandPubSub()
        pubsub.fail = RedisConnectionError("reset")
        pubsub.closing_fails = closing_fails
        on(sut, pubsub)

        await sut._read(cast("PubSub", pubsub))

        assert pubsub.closed
        assert (sut._pubsub, sut._unconfirmed, sut._channels) == (None, {}, {})
        assert isinstance(channel.error, DependencyUnavailableError)
        with pytest.raises(DependencyUnavailableError, match="Redis cannot be reached"):
            await asyncio.wait_for(anext(aiter(subscriber)), 1)
