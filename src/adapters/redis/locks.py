import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports.locks import Locks

__all__ = ("RedisLocks",)

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_POLL_S = 0.02


class RedisLocks(Locks):
    """``SET NX PX`` with a random token; released only by its holder (compare and delete)."""

    def __init__(self, client: Redis, prefix: str = "maestrist:lock:") -> None:
        self._client = client
        self._prefix = prefix

    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(self._prefix + key, ttl, wait)

    @asynccontextmanager
    async def _hold(self, name: str, ttl: timedelta, wait: timedelta) -> AsyncIterator[None]:
        token = secrets.token_hex(16)
        ttl_ms = max(1, int(ttl / timedelta(milliseconds=1)))
        try:
            async with asyncio.timeout(wait.total_seconds()):
                while not await self._client.set(  # noqa: ASYNC110 - the holder may be elsewhere
                    name, token, nx=True, px=ttl_ms
                ):
                    await asyncio.sleep(_POLL_S)
        except TimeoutError:
            raise DependencyUnavailableError(f"The lock {name} stayed busy.") from None
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        try:
            yield
        finally:
            with contextlib.suppress(RedisError, OSError):  # else the TTL frees it
                await self._client.eval(_RELEASE, 1, name, token)
