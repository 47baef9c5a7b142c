import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence

from application.ports.event_fan_out import SubscriberTooSlowError, Subscription
from domain.conversations.entities import StoredEvent

__all__ = ("BoundedSubscriber",)


class BoundedSubscriber(Subscription):
    """One subscriber's queue of live events, shared by the in-process and the Redis fan-out.

    ``offer`` never waits: a batch that would take the queue past ``buffer`` ends the
    subscription with ``SubscriberTooSlowError`` instead, and ``fail`` ends it with any other
    error. The reader gets the error at once, before whatever is still queued: it has missed
    events, so it must start over from the last one it got.
    """

    def __init__(self, buffer: int) -> None:
        self._buffer = buffer
        self._queue: deque[StoredEvent] = deque()
        self._ready = asyncio.Event()
        self._error: Exception | None = None

    def offer(self, events: Sequence[StoredEvent]) -> None:
        if self._error is not None:
            return
        if len(self._queue) + len(events) > self._buffer:
            self._error = SubscriberTooSlowError(self._buffer)
        else:
            self._queue.extend(events)
        self._ready.set()

    def fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[StoredEvent]:
        return self._read()

    async def _read(self) -> AsyncIterator[StoredEvent]:
        while True:
            if self._error is not None:
                raise self._error
            if self._queue:
                yield self._queue.popleft()
                continue
            self._ready.clear()
            await self._ready.wait()
