import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from application.errors import DependencyUnavailableError
from application.ports.locks import Locks


class FakeLocks(Locks):
    """Per-key asyncio locks that record what happened to them.

    ``acquisitions`` counts every hold that got its lock (``acquired`` lists their keys in
    order), ``gave_up`` the holds that stayed busy past their ``wait``, ``waiting`` the holds
    waiting now for a busy key, and ``max_holding`` the most holders any one key ever had at
    once: 1 unless mutual exclusion broke. The ``ttl`` is
    not modelled: a holder in one process cannot die without releasing.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holding: Counter[str] = Counter()
        self.waiting: Counter[str] = Counter()
        self.acquired: list[str] = []
        self.acquisitions = 0
        self.gave_up = 0
        self.max_holding = 0

    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(key, wait)

    @asynccontextmanager
    async def _hold(self, key: str, wait: timedelta) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        waits = int(lock.locked())
        self.waiting[key] += waits
        try:
            async with asyncio.timeout(wait.total_seconds()):
                await lock.acquire()
        except TimeoutError:
            self.gave_up += 1
            raise DependencyUnavailableError(f"The lock {key} stayed busy.") from None
        finally:
            self.waiting[key] -= waits
        self.acquisitions += 1
        self.acquired.append(key)
        self._holding[key] += 1
        self.max_holding = max(self.max_holding, self._holding[key])
        try:
            yield
        finally:
            self._holding[key] -= 1
            lock.release()
