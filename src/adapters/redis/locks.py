import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from weakref import WeakValueDictionary

from redis.asyncio import Redis
from redis.exceptions import MaxConnectionsError, RedisError

from application.errors import DependencyUnavailableError
from application.ports.locks import Locks

__all__ = ("RedisLocks",)

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_POLL_S = 0.02
_ANSWER_S = 0.25
"""The least time one ``SET`` gets to answer, so a free lock is taken even with no wait."""


class RedisLocks(Locks):
    """``SET NX PX`` with a random token; released only by its holder (compare and delete).

    ``wait`` bounds how long a busy lock is waited for; every ``SET`` still gets at least
    ``_ANSWER_S`` to answer. A hold that gives up (its wait ran out, it was cancelled, Redis
    failed) while a ``SET`` was in flight deletes its own token, should that ``SET`` have landed.
    Holders in this process queue on an in-process lock first, so however many wait here only
    one of them polls Redis; a connection pool that is momentarily full is waited out as busy.
    """

    def __init__(self, client: Redis, prefix: str = "maestrist:lock:") -> None:
        self._client = client
        self._prefix = prefix
        self._local: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(self._prefix + key, ttl, wait)

    @asynccontextmanager
    async def _hold(self, name: str, ttl: timedelta, wait: timedelta) -> AsyncIterator[None]:
        local = self._local.get(name)
        if local is None:
            local = self._local[name] = asyncio.Lock()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait.total_seconds())
        try:
            async with asyncio.timeout(deadline - loop.time()):
                await local.acquire()
        except TimeoutError:
            raise DependencyUnavailableError(f"The lock {name} stayed busy.") from None
        try:
            token = secrets.token_hex(16)
            try:
                await self._acquire(name, token, ttl, deadline)
            except BaseException:
                await self._release(name, token)
                raise
            try:
                yield
            finally:
                await self._release(name, token)
        finally:
            local.release()

    async def _acquire(self, name: str, token: str, ttl: timedelta, deadline: float) -> None:
        ttl_ms = max(1, int(ttl / timedelta(milliseconds=1)))
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    async with asyncio.timeout(max(deadline - loop.time(), _ANSWER_S)):
                        if await self._client.set(name, token, nx=True, px=ttl_ms):
                            return
                except MaxConnectionsError:
                    pass  # this process's pool is full for the moment: as good as busy
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(_POLL_S, remaining))
        except TimeoutError:
            pass
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        raise DependencyUnavailableError(f"The lock {name} stayed busy.")

    async def _release(self, name: str, token: str) -> None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):  # else the TTL frees it
            async with asyncio.timeout(_ANSWER_S * 4):
                await self._client.eval(_RELEASE, 1, name, token)
