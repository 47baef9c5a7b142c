import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.moving_window import MovingWindowRateLimiter
from application.errors import DependencyUnavailableError
from application.ports.rate_limiter import RateDecision, RatePolicy

__all__ = ("RedisRateLimiter",)


class RedisRateLimiter(MovingWindowRateLimiter):
    """Moving windows in Redis, shared by every worker of every server: each window is a
    list checked and extended by one Lua script, so concurrent hits from anywhere are
    counted exactly. Uses the server's own connection pool. A hit that Redis does not
    answer within ``timeout_s`` counts as Redis unavailable, so a slow Redis cannot stall
    requests."""

    def __init__(
        self, client: Redis, *, timeout_s: float = 0.5, prefix: str = "maestrist:rate"
    ) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            connection_pool=client.connection_pool,  # type: ignore[arg-type]  # passed on to Redis(); typed as URI options
            key_prefix=prefix,
            wrap_exceptions=True,
        )
        super().__init__(storage, failures=(RedisError, OSError))
        self._timeout_s = timeout_s

    async def hit(self, policy: RatePolicy, key: str, cost: int = 1) -> RateDecision:
        async with self._bounded():
            return await super().hit(policy, key, cost)

    @asynccontextmanager
    async def _bounded(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._timeout_s):
                yield
        except TimeoutError as exc:
            raise DependencyUnavailableError("The rate limiter's store did not answer.") from exc
