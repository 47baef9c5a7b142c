import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from application.errors import DependencyUnavailableError
from application.ports.locks import Locks


class FakeLocks(Locks):
    """Per-key asyncio locks that record how many holders ever overlapped."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self.acquisitions = 0
        self.holding = 0
        self.max_holding = 0

    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(key, wait)

    @asynccontextmanager
    async def _hold(self, key: str, wait: timedelta) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with asyncio.timeout(wait.total_seconds()):
                await lock.acquire()
        except TimeoutError:
            raise DependencyUnavailableError(f"The lock {key} stayed busy.") from None
        self.acquisitions += 1
        self.holding += 1
        self.max_holding = max(self.max_holding, self.holding)
        try:
            yield
        finally:
            self.holding -= 1
            lock.release()
