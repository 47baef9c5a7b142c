"""The ConversationCoordinator contract (the in-process adapter, which is also the fake; the
clustered one will join this suite): one owner per conversation, fences that grow, a lost
lease noticed, live fan-out in order, and a slow subscriber cut off without holding up the
others."""

import asyncio

import pytest

from adapters.memory import InProcessConversationCoordinator
from application.ports.conversation_coordinator import (
    ConversationCoordinator,
    LeaseLostError,
    SubscriberTooSlowError,
)
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.shared.ids import new_id
from tests.factories import T0


@pytest.fixture(params=["in-process"])
def sut(request: pytest.FixtureRequest) -> InProcessConversationCoordinator:
    return InProcessConversationCoordinator()


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


async def test_a_lease_taken_over_is_lost(sut: InProcessConversationCoordinator) -> None:
    cid = ConversationId(new_id())
    mine = await sut.acquire(cid)
    assert mine is not None
    theirs = sut.seize(cid, owner="another-server")
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
