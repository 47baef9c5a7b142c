from collections.abc import AsyncIterator

from application.ports.event_fan_out import EventFanOut
from application.ports.unit_of_work import UnitsOfWork
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId

__all__ = ("ConversationFeed",)

_PAGE = 500


class ConversationFeed:
    """A conversation's events after a sequence number: the stored ones, then live ones as
    they are stored, each once and in order. It subscribes before it reads the backlog and
    drops what the backlog already gave, so nothing falls between the two. Authorize first:
    it does not check who asks."""

    def __init__(self, fan_out: EventFanOut, store: UnitsOfWork) -> None:
        self._fan_out = fan_out
        self._store = store

    async def _stored(self, conversation_id: ConversationId, after: int) -> list[StoredEvent]:
        async with self._store.begin() as tx:
            return await tx.events.list_after(conversation_id, after, _PAGE)

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
                    missing = await self._stored(conversation_id, last)
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
