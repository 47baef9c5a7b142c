"""The RateLimiter contract: in-process, Redis and the fake alike."""

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest import mock

import limits.aio.storage.memory
import limits.aio.storage.redis.redispy
import limits.aio.strategies
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

import adapters.moving_window.limiter
from adapters.memory import InProcessRateLimiter
from adapters.redis import RedisRateLimiter, create_redis_client
from application.errors import DependencyUnavailableError
from application.ports.rate_limiter import Rate, RateLimiter, RatePolicy
from tests.conftest import REDIS_URL
from tests.fakes import FakeClock, FakeRateLimiter

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def policy(name: str, *rates: tuple[int, timedelta]) -> RatePolicy:
    return RatePolicy(name=name, rates=tuple(Rate(amount=a, per=p) for a, p in rates))


FIVE_A_MINUTE = policy("five", (5, MINUTE))


@contextlib.contextmanager
def on_fake_time(clock: FakeClock) -> Iterator[None]:
    """The real adapters read ``time.time()``; here they read ``clock`` instead."""
    fake = mock.Mock(wraps=time)
    fake.time = lambda: clock.now().timestamp()
    modules = (
        limits.aio.storage.memory,
        limits.aio.storage.redis.redispy,
        limits.aio.strategies,
        adapters.moving_window.limiter,
    )
    with contextlib.ExitStack() as stack:
        for module in modules:
            stack.enter_context(mock.patch.object(module, "time", fake))
        yield


@pytest.fixture
async def redis_client() -> AsyncIterator[tuple[Redis, str]]:
    """A client, and a key prefix of this test's own whose keys are removed afterwards."""
    client: Redis = create_redis_client(REDIS_URL, timeout_s=2, max_connections=60)
    prefix = f"maestrist-test:{secrets.token_hex(8)}:rate"
    try:
        yield client, prefix
    finally:
        leftovers = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if leftovers:
            await client.delete(*leftovers)
        await client.aclose()


@dataclass
class Limiter:
    """A limiter, and how to let time pass for it: the fake's clock, or real time."""

    limiter: RateLimiter
    let_pass: Callable[[timedelta], Awaitable[None]]
    clock: FakeClock | None = None


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis), "fake"])
def sut(request: pytest.FixtureRequest) -> Limiter:
    async def sleep(span: timedelta) -> None:
        await asyncio.sleep(span.total_seconds())

    if request.param == "in-process":
        return Limiter(InProcessRateLimiter(), sleep)
    if request.param == "redis":
        client, prefix = request.getfixturevalue("redis_client")
        return Limiter(RedisRateLimiter(client, prefix=prefix, timeout_s=2), sleep)
    clock = FakeClock()

    async def advance(span: timedelta) -> None:
        clock.advance(span)

    return Limiter(FakeRateLimiter(clock), advance, clock)


@pytest.fixture
def limiter(sut: Limiter) -> RateLimiter:
    return sut.limiter


async def test_hits_pass_up_to_the_limit_then_are_refused(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit(FIVE_A_MINUTE, "k") for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
    assert all(d.rate == FIVE_A_MINUTE.rates[0] for d in decisions)
    assert all(timedelta(0) < d.reset_after <= MINUTE for d in decisions)


async def test_keys_and_policies_do_not_share_buckets(limiter: RateLimiter) -> None:
    other_policy = policy("other", (5, MINUTE))
    for _ in range(5):
        await limiter.hit(FIVE_A_MINUTE, "user:a")
    assert not (await limiter.hit(FIVE_A_MINUTE, "user:a")).allowed
    assert (await limiter.hit(FIVE_A_MINUTE, "user:b")).remaining == 4
    assert (await limiter.hit(other_policy, "user:a")).remaining == 4
    assert (await limiter.hit(FIVE_A_MINUTE, "ip:2001:db8::/64")).allowed


async def test_a_hit_takes_its_cost_and_a_refused_one_takes_nothing(limiter: RateLimiter) -> None:
    assert (await limiter.hit(FIVE_A_MINUTE, "k", cost=3)).remaining == 2
    refused = await limiter.hit(FIVE_A_MINUTE, "k", cost=3)
    assert not refused.allowed
    assert refused.remaining == 0
    assert (await limiter.hit(FIVE_A_MINUTE, "k", cost=2)).allowed
    assert not (await limiter.hit(FIVE_A_MINUTE, "k")).allowed


async def test_a_cost_above_the_limit_never_passes(limiter: RateLimiter) -> None:
    refused = await limiter.hit(FIVE_A_MINUTE, "k", cost=6)
    assert not refused.allowed
    assert refused.reset_after == MINUTE
    assert (await limiter.hit(FIVE_A_MINUTE, "k", cost=5)).allowed


async def test_a_cost_below_one_is_refused_as_a_mistake(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="at least one"):
        await limiter.hit(FIVE_A_MINUTE, "k", cost=0)


async def test_several_rates_answer_with_the_one_closest_to_refusing(
    limiter: RateLimiter,
) -> None:
    both = policy("both", (3, SECOND), (4, MINUTE))
    first = await limiter.hit(both, "k")
    assert (first.rate.amount, first.remaining) == (3, 2)
    await limiter.hit(both, "k")
    third = await limiter.hit(both, "k")
    assert (third.rate.amount, third.remaining) == (3, 0)
    refused = await limiter.hit(both, "k")
    assert not refused.allowed
    assert refused.rate.amount == 3
    assert timedelta(0) < refused.reset_after <= SECOND


async def test_a_window_that_passed_lets_units_through_again(sut: Limiter) -> None:
    short = policy("short", (2, SECOND))
    assert (await sut.limiter.hit(short, "k")).allowed
    assert (await sut.limiter.hit(short, "k")).allowed
    refused = await sut.limiter.hit(short, "k")
    assert not refused.allowed
    if sut.clock is not None:
        sut.clock.advance(SECOND / 2)
        assert not (await sut.limiter.hit(short, "k")).allowed
    await sut.let_pass(SECOND + timedelta(milliseconds=50))
    assert (await sut.limiter.hit(short, "k")).allowed


async def test_concurrent_hits_pass_exactly_the_limit(limiter: RateLimiter) -> None:
    twenty = policy("twenty", (20, MINUTE))
    decisions = await asyncio.gather(*(limiter.hit(twenty, "race") for _ in range(60)))
    assert sum(d.allowed for d in decisions) == 20
    # What is left is read after the hit: hits in flight together may have taken more.
    assert all(0 <= d.remaining < 20 for d in decisions)


schedules = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1500), st.integers(min_value=1, max_value=4)),
    min_size=1,
    max_size=40,
)
"""Arrivals: milliseconds since the previous one, and the hit's cost."""


async def _hold_to_the_limit(
    limiters: list[RateLimiter],
    clock: FakeClock,
    schedule: list[tuple[int, int, int]],
    amount: int,
) -> None:
    """Play ``schedule`` (gap in ms, cost, which limiter) against ``limiters`` sharing one
    count: every span of the window's length holds at most ``amount`` accepted units, and a
    hit is refused only when taking it would go over."""
    window = SECOND
    limit = policy("prop", (amount, window))
    key = secrets.token_hex(8)
    accepted: list[tuple[datetime, int]] = []
    with on_fake_time(clock):
        for gap_ms, cost, which in schedule:
            clock.advance(timedelta(milliseconds=gap_ms))
            now = clock.now()
            in_window = sum(c for at, c in accepted if at >= now - window)
            decision = await limiters[which % len(limiters)].hit(limit, key, cost)
            assert decision.allowed == (in_window + cost <= amount), (now, accepted)
            if decision.allowed:
                accepted.append((now, cost))
                # At the very edge of the window, what is left is read one way or the other.
                if all(at != now - window for at, _ in accepted):
                    assert decision.remaining == amount - in_window - cost
    for end, _ in accepted:
        assert sum(c for at, c in accepted if end - window <= at <= end) <= amount


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=schedules, amount=st.integers(min_value=1, max_value=6))
async def test_no_window_ever_holds_more_than_the_limit_whatever_the_arrivals(
    sut: Limiter, schedule: list[tuple[int, int]], amount: int
) -> None:
    clock = sut.clock or FakeClock(datetime.fromtimestamp(round(time.time()), UTC))
    await _hold_to_the_limit(
        [sut.limiter], clock, [(gap, cost, 0) for gap, cost in schedule], amount
    )


@pytest.mark.redis
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    schedule=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1500),
            st.integers(min_value=1, max_value=4),
            st.integers(min_value=0, max_value=1),
        ),
        min_size=1,
        max_size=40,
    ),
    amount=st.integers(min_value=1, max_value=6),
)
async def test_two_servers_on_one_redis_hold_any_arrivals_to_the_limit(
    redis_client: tuple[Redis, str], schedule: list[tuple[int, int, int]], amount: int
) -> None:
    """Each hit arrives at one of two servers: two limiters, each with its own Redis
    connections, as two servers have. Their one count holds every schedule to the limit."""
    _, prefix = redis_client
    clients = [create_redis_client(REDIS_URL, timeout_s=2, max_connections=4) for _ in range(2)]
    try:
        servers: list[RateLimiter] = [
            RedisRateLimiter(client, prefix=prefix, timeout_s=2) for client in clients
        ]
        clock = FakeClock(datetime.fromtimestamp(round(time.time()), UTC))
        await _hold_to_the_limit(servers, clock, schedule, amount)
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.redis
async def test_an_unreachable_redis_is_an_unavailable_dependency(
    redis_client: tuple[Redis, str],
) -> None:
    closed = create_redis_client("redis://127.0.0.1:1/0", timeout_s=1, max_connections=2)
    try:
        with pytest.raises(DependencyUnavailableError):
            await RedisRateLimiter(closed).hit(FIVE_A_MINUTE, "k")
    finally:
        await closed.aclose()


@pytest.mark.redis
async def test_a_redis_that_does_not_answer_in_time_is_an_unavailable_dependency() -> None:
    done = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65536)
        await done.wait()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = create_redis_client(f"redis://127.0.0.1:{port}/0", timeout_s=5, max_connections=2)
    started = time.monotonic()
    try:
        with pytest.raises(DependencyUnavailableError):
            await RedisRateLimiter(silent, timeout_s=0.2).hit(FIVE_A_MINUTE, "k")
        assert time.monotonic() - started < 2
    finally:
        await silent.aclose()
        done.set()
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()
