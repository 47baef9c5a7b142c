"""Moving-window counting on the ``limits`` package, whichever of its storages holds the
windows: the in-process and the Redis rate limiters differ only in the storage."""

import time
from datetime import timedelta

from limits import RateLimitItemPerSecond
from limits.aio.storage import MovingWindowSupport, Storage
from limits.aio.strategies import MovingWindowRateLimiter as _Strategy
from limits.errors import StorageError

from application.errors import DependencyUnavailableError
from application.ports.rate_limiter import Rate, RateDecision, RateLimiter, RatePolicy

__all__ = ("MovingWindowRateLimiter",)


class MovingWindowRateLimiter(RateLimiter):
    """Each rate keeps the instants of the units it let through within its window, so no
    span of the window's length ever holds more than its amount (no burst at a window's
    edge, unlike fixed windows, and exact, unlike sliding-window counters). The storage
    checks and records a hit in one step: a lock in process, one Lua script on Redis."""

    def __init__(self, storage: Storage, *, failures: tuple[type[Exception], ...] = ()):
        assert isinstance(storage, MovingWindowSupport)
        self._strategy = _Strategy(storage)
        self._failures: tuple[type[Exception], ...] = (StorageError, *failures)

    async def hit(self, policy: RatePolicy, key: str, cost: int = 1) -> RateDecision:
        if cost < 1:
            raise ValueError("a hit costs at least one unit")
        try:
            decisions = []
            for rate in policy.rates:
                decision = await self._hit_one(rate, policy.name, key, cost)
                if not decision.allowed:
                    return decision
                decisions.append(decision)
        except self._failures as exc:
            raise DependencyUnavailableError("The rate limiter's store cannot be reached.") from exc
        return min(decisions, key=lambda d: (d.remaining / d.rate.amount, -d.reset_after))

    async def _hit_one(self, rate: Rate, name: str, key: str, cost: int) -> RateDecision:
        item = RateLimitItemPerSecond(rate.amount, rate.seconds)
        allowed = await self._strategy.hit(item, name, key, cost=cost)
        stats = await self._strategy.get_window_stats(item, name, key)
        reset_after = timedelta(seconds=min(max(0.0, stats.reset_time - time.time()), rate.seconds))
        if not allowed and cost > rate.amount:
            # Never passes: say so with the whole window rather than a wait that would not do.
            reset_after = rate.per
        return RateDecision(
            allowed=allowed,
            rate=rate,
            remaining=max(0, stats.remaining) if allowed else 0,
            reset_after=reset_after,
        )
