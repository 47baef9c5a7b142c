import asyncio
import itertools
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from application.ports.conversation_coordinator import (
    ConversationCoordinator,
    Lease,
    LeaseLostError,
    SubscriberTooSlowError,
    Subscription,
)
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId

__all__ = ("InProcessConversationCoordinator",)


class _Subscriber(Subscription):
    def __init__(self, buffer: int) -> None:
        self._buffer = buffer
        self._queue: deque[StoredEvent] = deque()
        self._ready = asyncio.Event()
        self.overflowed = False

    def offer(self, events: Sequence[StoredEvent]) -> None:
        if self.overflowed:
            return
        if len(self._queue) + len(events) > self._buffer:
            self.overflowed = True
        else:
            self._queue.extend(events)
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[StoredEvent]:
        return self._read()

    async def _read(self) -> AsyncIterator[StoredEvent]:
        while True:
            if self.overflowed:
                raise SubscriberTooSlowError(self._buffer)
            if self._queue:
                yield self._queue.popleft()
                continue
            self._ready.clear()
            await self._ready.wait()


class InProcessConversationCoordinator(ConversationCoordinator):
    """One process owns everything: leases are a dict, fences a counter, fan-out a set of
    bounded buffers per conversation."""

    def __init__(self) -> None:
        self._owner = uuid.uuid4().hex
        self._fences = itertools.count(1)
        self._leases: dict[ConversationId, Lease] = {}
        self._subscribers: dict[ConversationId, set[_Subscriber]] = {}

    async def acquire(self, conversation_id: ConversationId) -> Lease | None:
        if conversation_id in self._leases:
            return None
        lease = Lease(conversation_id=conversation_id, fence=next(self._fences), owner=self._owner)
        self._leases[conversation_id] = lease
        return lease

    def seize(self, conversation_id: ConversationId, owner: str) -> Lease:
        """Take the stream over whoever holds it, as a clustered adapter does when an owner's
        lease expires."""
        lease = Lease(conversation_id=conversation_id, fence=next(self._fences), owner=owner)
        self._leases[conversation_id] = lease
        return lease

    async def ensure_current(self, lease: Lease) -> None:
        if self._leases.get(lease.conversation_id) != lease:
            raise LeaseLostError

    async def release(self, lease: Lease) -> None:
        if self._leases.get(lease.conversation_id) == lease:
            del self._leases[lease.conversation_id]

    async def publish(self, conversation_id: ConversationId, events: Sequence[StoredEvent]) -> None:
        for subscriber in tuple(self._subscribers.get(conversation_id, ())):
            subscriber.offer(events)

    def subscribe(
        self, conversation_id: ConversationId, *, buffer: int
    ) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(conversation_id, buffer)

    @asynccontextmanager
    async def _subscribe(
        self, conversation_id: ConversationId, buffer: int
    ) -> AsyncIterator[Subscription]:
        subscriber = _Subscriber(buffer)
        self._subscribers.setdefault(conversation_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            subscribers = self._subscribers.get(conversation_id, set())
            subscribers.discard(subscriber)
            if not subscribers:
                self._subscribers.pop(conversation_id, None)
