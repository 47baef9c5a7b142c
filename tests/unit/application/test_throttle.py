"""Throttle: a hit over the limit raises, and a limiter that cannot answer lets the hit
through or refuses it by the limit's failure mode, counting it either way."""

from datetime import timedelta

import pytest

from application.errors import DependencyUnavailableError, RateLimitedError
from application.ports.rate_limiter import Rate, RatePolicy
from application.rate_limits import Limit, RateLimitCounters, Throttle
from tests.fakes import FakeClock, FakeRateLimiter
from tests.fakes.metrics import FakeMetrics

POLICY = RatePolicy(name="user", rates=(Rate(amount=2, per=timedelta(minutes=1)),))
OPEN = Limit(policy=POLICY, fail_open=True)
CLOSED = Limit(policy=POLICY, fail_open=False)


@pytest.fixture
def limiter() -> FakeRateLimiter:
    return FakeRateLimiter(FakeClock())


async def test_hits_over_the_limit_raise_with_the_deciding_rate(limiter: FakeRateLimiter) -> None:
    metrics = FakeMetrics()
    counters = RateLimitCounters(metrics)
    sut = Throttle(limiter, counters)
    assert (await sut.hit(OPEN, "user:a")) is not None
    await sut.hit(OPEN, "user:a")
    with pytest.raises(RateLimitedError) as refused:
        await sut.hit(OPEN, "user:a")
    assert refused.value.policy == POLICY
    assert refused.value.decision.rate == POLICY.rates[0]
    assert counters.refused == {"user": 1}
    assert counters.unavailable == {}
    assert metrics.counts == {("rate_limited", "user"): 1}


async def test_an_unavailable_limiter_lets_a_fail_open_hit_through(
    limiter: FakeRateLimiter,
) -> None:
    counters = RateLimitCounters(FakeMetrics())
    limiter.unavailable = True
    assert await Throttle(limiter, counters).hit(OPEN, "user:a") is None
    assert counters.unavailable == {("user", "allowed"): 1}


async def test_an_unavailable_limiter_refuses_a_fail_closed_hit(limiter: FakeRateLimiter) -> None:
    metrics = FakeMetrics()
    counters = RateLimitCounters(metrics)
    limiter.unavailable = True
    with pytest.raises(DependencyUnavailableError, match="cannot be checked"):
        await Throttle(limiter, counters).hit(CLOSED, "user:a", cost=2)
    assert counters.unavailable == {("user", "refused"): 1}
    assert counters.refused == {}
    assert metrics.counts == {("rate_limiter_unavailable", "user", "refused"): 1}
