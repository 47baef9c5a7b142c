"""ConversationFeed at its edges, on the fake store and the in-process fan-out: a backlog longer
than one page, a live event the backlog already gave, a gap wider than one page, and the
shared gap reads forgotten once done."""

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from adapters.memory import InProcessEventFanOut
from application.conversations import ConversationFeed
from application.conversations.feed import _PAGE
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.shared.ids import new_id
from tests.factories import create_stored_event
from tests.fakes import FakeStore
from tests.fakes.store import EventLog
from tests.fakes.unit_of_work import FakeUnitsOfWork

CID = ConversationId(new_id())


def stored(seq: int) -> StoredEvent:
    return create_stored_event(CID, seq)


class Rig:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.fan_out = InProcessEventFanOut()
        self.sut = ConversationFeed(self.fan_out, FakeUnitsOfWork(self.store))

    def store_events(self, seqs: Sequence[int]) -> list[StoredEvent]:
        log = self.store.live.events.setdefault(CID, EventLog())
        events = [stored(seq) for seq in seqs]
        log.extend(events)
        self.store.commit()
        return events


@pytest.fixture
def rig() -> Rig:
    return Rig()


async def read(feed: AsyncIterator[StoredEvent], count: int) -> list[int]:
    got: list[int] = []
    async with asyncio.timeout(5):
        async for event in feed:
            got.append(event.seq)
            if len(got) == count:
                break
    return got


async def test_a_backlog_of_several_pages_comes_whole(rig: Rig) -> None:
    total = 2 * _PAGE + 7
    rig.store_events(range(1, total + 1))
    feed = rig.sut.events(CID, after=0, buffer=10)
    reader = asyncio.create_task(read(feed, total + 1))
    await asyncio.sleep(0.1)  # the backlog read and the subscription made
    await rig.fan_out.publish(CID, rig.store_events([total + 1]))
    assert await reader == list(range(1, total + 2))


async def test_a_backlog_of_exactly_one_page_is_read_to_its_end(rig: Rig) -> None:
    rig.store_events(range(1, _PAGE + 51))  # a full page, then 50 more
    feed = rig.sut.events(CID, after=0, buffer=10)
    assert await read(feed, _PAGE + 50) == list(range(1, _PAGE + 51))


async def test_a_live_event_the_backlog_gave_already_is_not_given_again(rig: Rig) -> None:
    rig.store_events(range(1, 4))
    feed = rig.sut.events(CID, after=0, buffer=10)
    first = await anext(feed)  # subscribed, and the backlog read: 1..3
    # Stored while the backlog was read, so published after: the reader has it already.
    await rig.fan_out.publish(CID, [stored(3)])
    await rig.fan_out.publish(CID, rig.store_events([4]))
    rest = await read(feed, 3)
    assert [first.seq, *rest] == [1, 2, 3, 4]


async def test_a_gap_wider_than_a_page_is_filled_whole(rig: Rig) -> None:
    feed = rig.sut.events(CID, after=0, buffer=10)
    reader = asyncio.create_task(read(feed, 2 * _PAGE + 3))
    await asyncio.sleep(0.1)  # subscribed, nothing stored yet
    events = rig.store_events(range(1, 2 * _PAGE + 4))
    await rig.fan_out.publish(CID, events[-1:])  # only the last is published: a gap before it
    assert await reader == list(range(1, 2 * _PAGE + 4))
    assert rig.sut._filling == {}  # each shared read is forgotten once done


async def test_readers_of_one_gap_share_a_read_that_is_forgotten_after(rig: Rig) -> None:
    feeds = [rig.sut.events(CID, after=0, buffer=10) for _ in range(3)]
    readers = [asyncio.create_task(read(feed, 5)) for feed in feeds]
    await asyncio.sleep(0.1)
    events = rig.store_events(range(1, 6))
    await rig.fan_out.publish(CID, events[-1:])
    assert await asyncio.gather(*readers) == [[1, 2, 3, 4, 5]] * 3
    assert rig.sut._filling == {}
