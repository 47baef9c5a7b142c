import asyncio
from collections.abc import AsyncIterator

from application.ports.event_fan_out import EventFanOut
from application.ports.unit_of_work import UnitsOfWork
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId

__all__ = ("ConversationFeed",)

_PAGE = 500

_Gap = tuple[ConversationId, int, int]
"""A conversation, the last event a reader has and the first one it got after a gap."""


class ConversationFeed:
    """A conversation's events after a sequence number: the stored ones, then live ones as
    they are stored, each once and in order. It subscribes before it reads the backlog and
    drops what the backlog already gave, so nothing falls between the two. Authorize first:
    it does not check who asks.

    Readers of one conversation that see the same event arrive out of order (hundreds of
    sockets of one conversation on a server see each event together) share one read of the
    store to fill the gap before it: a server reads it once, not once per socket. A read is
    shared only among readers that had that event, so it began after the event was stored."""

    def __init__(self, fan_out: EventFanOut, store: UnitsOfWork) -> None:
        self._fan_out = fan_out
        self._store = store
        self._filling: dict[_Gap, asyncio.Future[list[StoredEvent]]] = {}

    async def _stored(self, conversation_id: ConversationId, after: int) -> list[StoredEvent]:
        async with self._store.begin() as tx:
            return await tx.events.list_after(conversation_id, after, _PAGE)

    async def _missing(self, gap: _Gap) -> list[StoredEvent]:
        """The stored events after ``gap``'s ``after``, read once for every reader that
        waits for the same gap."""
        reading = self._filling.get(gap)
        if reading is None:
            reading = asyncio.ensure_future(self._stored(gap[0], gap[1]))
            self._filling[gap] = reading
            reading.add_done_callback(lambda done: self._forget(gap, done))
        # Shielded: a reader that goes away does not cancel the read the others wait for.
        return await asyncio.shield(reading)

    def _forget(self, gap: _Gap, done: asyncio.Future[list[StoredEvent]]) -> None:
        if self._filling.get(gap) is done:
            del self._filling[gap]
        if not done.cancelled():
            done.exception()  # retrieved: a failure nobody awaited any more is not logged

    async def events(
        self, conversation_id: ConversationId, *, after: int, buffer: int
    ) -> AsyncIterator[StoredEvent]:
        """Raises ``SubscriberTooSlowError`` when the reader falls ``buffer`` events behind."""
        async with self._fan_out.subscribe(conversation_id, buffer=buffer) as live:
            last = after
            while True:
                page = await self._stored(conversation_id, last)
                for event in page:
                    last = event.seq
                    yield event
                if len(page) < _PAGE:
                    break
            async for event in live:
                if event.seq <= last:
                    continue
                while event.seq > last + 1:  # published out of order: fill from the store
                    missing = await self._missing((conversation_id, last, event.seq))
                    if not missing:
                        break
                    for found in missing:
                        if found.seq < event.seq:
                            last = found.seq
                            yield found
                    if len(missing) < _PAGE:
                        break
                if event.seq > last:
                    last = event.seq
                    yield event
