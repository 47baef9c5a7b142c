from datetime import datetime, timedelta

from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.rate_limiter import Rate, RateDecision, RateLimiter, RatePolicy


class FakeRateLimiter(RateLimiter):
    """Moving windows on the test's clock: the instant of every unit let through, per
    policy, rate and key. ``unavailable`` makes every hit fail as an unreachable store."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.units: dict[tuple[str, int, int, str], list[datetime]] = {}
        self.hits: list[tuple[str, str, int]] = []
        self.unavailable = False

    async def hit(self, policy: RatePolicy, key: str, cost: int = 1) -> RateDecision:
        if cost < 1:
            raise ValueError("a hit costs at least one unit")
        if self.unavailable:
            raise DependencyUnavailableError("The fake rate limiter is unavailable.")
        self.hits.append((policy.name, key, cost))
        decisions = []
        for rate in policy.rates:
            decision = self._hit_one(rate, policy.name, key, cost)
            if not decision.allowed:
                return decision
            decisions.append(decision)
        return min(decisions, key=lambda d: (d.remaining / d.rate.amount, -d.reset_after))

    def _hit_one(self, rate: Rate, name: str, key: str, cost: int) -> RateDecision:
        now = self._clock.now()
        units = self.units.setdefault((name, rate.amount, rate.seconds, key), [])
        units[:] = [at for at in units if at >= now - rate.per]
        allowed = len(units) + cost <= rate.amount
        if allowed:
            units.extend([now] * cost)
        reset_after = (units[0] + rate.per - now) if units else timedelta(0)
        if cost > rate.amount:
            reset_after = rate.per
        return RateDecision(
            allowed=allowed,
            rate=rate,
            remaining=rate.amount - len(units) if allowed else 0,
            reset_after=reset_after,
        )
