"""The bounded subscriber both fan-outs share: it queues in order, never waits on offer, and
once ended (overflow or failure) says so before anything still queued."""

import asyncio

import pytest

from adapters.memory import BoundedSubscriber
from application.errors import DependencyUnavailableError
from application.ports.event_fan_out import SubscriberTooSlowError
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.shared.ids import new_id
from tests.factories import create_stored_event

CID = ConversationId(new_id())


def stored(seq: int) -> StoredEvent:
    return create_stored_event(CID, seq)


async def test_a_batch_past_the_buffer_ends_the_subscription_before_what_was_queued() -> None:
    sut = BoundedSubscriber(3)
    sut.offer([stored(1), stored(2)])
    reader = aiter(sut)
    assert (await anext(reader)).seq == 1
    sut.offer([stored(3), stored(4), stored(5)])
    sut.offer([stored(6)])  # ignored once cut off
    with pytest.raises(SubscriberTooSlowError) as cut:
        await anext(reader)
    assert cut.value.buffered == 3


async def test_the_first_failure_wins_and_wakes_a_waiting_reader() -> None:
    sut = BoundedSubscriber(10)

    async def drain() -> list[int]:
        return [event.seq async for event in sut]

    reading = asyncio.create_task(drain())
    await asyncio.sleep(0)
    sut.fail(DependencyUnavailableError("gone"))
    sut.fail(RuntimeError("later"))
    with pytest.raises(DependencyUnavailableError):
        await asyncio.wait_for(reading, 1)
