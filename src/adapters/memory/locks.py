import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from weakref import WeakValueDictionary

from application.errors import DependencyUnavailableError
from application.ports.locks import Locks

__all__ = ("InProcessLocks",)


class InProcessLocks(Locks):
    """The embedded binding runs one process, so an ``asyncio.Lock`` per key is enough."""

    def __init__(self) -> None:
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(key, wait)

    @asynccontextmanager
    async def _hold(self, key: str, wait: timedelta) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        try:
            async with asyncio.timeout(wait.total_seconds()):
                await lock.acquire()
        except TimeoutError:
            raise DependencyUnavailableError(f"The lock {key} stayed busy.") from None
        try:
            yield
        finally:
            lock.release()
