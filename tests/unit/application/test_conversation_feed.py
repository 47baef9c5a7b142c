"""ConversationFeed over the in-process fan-out and the fake store: live events published out
of order, or lost from the live channel but stored, still reach the reader in order and once."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractAsyncContextManager
from uuid import uuid4

import pytest

from adapters.memory import InProcessEventFanOut
from application.conversations import ConversationFeed
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation, StoredEvent, Tenant
from domain.conversations.value_objects import ConversationId, EventType, RuntimeEvent
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id
from tests.factories import T0
from tests.fakes import FakeStore
from tests.fakes.unit_of_work import FakeUnitsOfWork


async def stored(store: FakeUnitsOfWork, cid: ConversationId, count: int) -> list[StoredEvent]:
    async with store.begin() as tx:
        events = [
            RuntimeEvent(
                event_id=str(uuid4()),
                conversation_id=cid,
                kind="MessageEvent",
                source="agent",
                type=EventType.MESSAGE,
                occurred_at=T0,
                payload={},
            )
            for _ in range(count)
        ]
        added = await tx.events.append(cid, events, fence=1)
        await tx.commit()
    return added


@pytest.mark.parametrize("live", [[3, 2], [3]], ids=["out-of-order", "one-lost"])
async def test_the_reader_gets_every_stored_event_in_order_once(live: list[int]) -> None:
    """Event 1 comes from the backlog; 2 and 3 are stored, then published as ``live`` says;
    1, 2 and 4 are published again after 4 is stored: the reader sees 2, 3 and 4."""
    fake = FakeStore()
    cid = ConversationId(new_id())
    tenant = Tenant(OrgId(new_id()), UserId(new_id()))
    fake.live.conversations[cid] = Conversation(
        id_=cid, tenant=tenant, created_at=T0, updated_at=T0
    )
    fake.commit()
    store = FakeUnitsOfWork(fake)
    fan_out = InProcessEventFanOut()
    reader = ConversationFeed(fan_out, store).events(cid, after=0, buffer=16)
    assert isinstance(reader, AsyncGenerator)
    [first] = await stored(store, cid, 1)
    try:
        assert (await anext(reader)).seq == 1
        later = {event.seq: event for event in await stored(store, cid, 2)}
        await fan_out.publish(cid, [later[seq] for seq in live])
        [fourth] = await stored(store, cid, 1)
        await fan_out.publish(cid, [first, later[2], fourth])
        seen = [(await anext(reader)).seq]
        while seen[-1] < fourth.seq:
            seen.append((await anext(reader)).seq)
    finally:
        await reader.aclose()
    assert seen == [2, 3, 4]


class _CountedReads(FakeUnitsOfWork):
    def __init__(self, store: FakeStore) -> None:
        super().__init__(store)
        self.reads = 0

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        self.reads += 1
        return super().begin()


async def test_readers_that_see_the_same_gap_share_one_read_of_the_store() -> None:
    """Fifty readers of one conversation see event 3 published before 2: the server reads
    the gap once for all of them, and each still gets 1, 2, 3 in order."""
    fake = FakeStore()
    cid = ConversationId(new_id())
    tenant = Tenant(OrgId(new_id()), UserId(new_id()))
    fake.live.conversations[cid] = Conversation(
        id_=cid, tenant=tenant, created_at=T0, updated_at=T0
    )
    fake.commit()
    store = _CountedReads(fake)
    fan_out = InProcessEventFanOut()
    feed = ConversationFeed(fan_out, store)
    [first] = await stored(store, cid, 1)
    readers = [feed.events(cid, after=0, buffer=16) for _ in range(50)]
    try:
        for reader in readers:
            assert (await anext(reader)).seq == 1
        later = {event.seq: event for event in await stored(store, cid, 2)}
        reads_before = store.reads
        await fan_out.publish(cid, [later[3]])
        seen = await asyncio.gather(*(_next_two(reader) for reader in readers))
    finally:
        for reader in readers:
            await reader.aclose()  # type: ignore[attr-defined]
    assert seen == [[2, 3]] * 50
    assert store.reads - reads_before == 1
    assert first.seq == 1


async def _next_two(reader: AsyncIterator[StoredEvent]) -> list[int]:
    return [(await anext(reader)).seq, (await anext(reader)).seq]
