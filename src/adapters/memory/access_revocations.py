import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from application.ports.access_revocations import (
    AccessRevocations,
    Revocation,
    RevocationsMissed,
    RevocationSubscription,
)

__all__ = ("InProcessAccessRevocations", "RevocationBuffer")


class RevocationBuffer(RevocationSubscription):
    """One subscriber's revocations not read yet. Past ``limit`` of them, they are replaced by
    one ``RevocationsMissed``: a reader that far behind checks everything again anyway."""

    def __init__(self, limit: int = 100) -> None:
        self._limit = limit
        self._queue: deque[Revocation] = deque()
        self._ready = asyncio.Event()

    def offer(self, revocations: Iterable[Revocation]) -> None:
        self._queue.extend(revocations)
        if len(self._queue) > self._limit:
            self._queue.clear()
            self._queue.append(RevocationsMissed())
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[Revocation]:
        return self._read()

    async def _read(self) -> AsyncIterator[Revocation]:
        while True:
            if self._queue:
                yield self._queue.popleft()
                continue
            self._ready.clear()
            await self._ready.wait()


class InProcessAccessRevocations(AccessRevocations):
    """One process is every server: announcing hands the revocations to each subscriber."""

    def __init__(self) -> None:
        self._subscribers: set[RevocationBuffer] = set()

    async def publish(self, revocations: Sequence[Revocation]) -> None:
        for subscriber in tuple(self._subscribers):
            subscriber.offer(revocations)

    def subscribe(self) -> AbstractAsyncContextManager[RevocationSubscription]:
        return self._subscribe()

    def listening(self) -> bool:
        return True

    @asynccontextmanager
    async def _subscribe(self) -> AsyncIterator[RevocationSubscription]:
        subscriber = RevocationBuffer()
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)
