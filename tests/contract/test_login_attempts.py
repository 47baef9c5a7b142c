"""The LoginAttemptStore contract: in-process, Redis and the fake alike."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from adapters.memory import InProcessLoginAttemptStore
from adapters.redis import RedisLoginAttemptStore, create_redis_client
from application.ports.login_attempts import LoginAttemptStore, PendingLogin
from tests.conftest import REDIS_URL
from tests.fakes import FakeClock, FakeLoginAttemptStore

ATTEMPT = PendingLogin(
    code_verifier="v" * 43,
    nonce="n-Ünïcødé",
    return_to="/here?x=1#y",
    idp_hint="github",
    started_at=datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC),
)
NO_HINT = PendingLogin(
    code_verifier="w" * 128,
    nonce="m",
    return_to="/",
    idp_hint=None,
    started_at=datetime(2026, 1, 2, tzinfo=UTC),
)
MINUTE = timedelta(minutes=1)


@dataclass
class RedisStore:
    store: RedisLoginAttemptStore
    client: Redis
    prefix: str

    async def let_pass(self, span: timedelta) -> None:
        """Polls, with a generous deadline, until every key that ``span`` would expire is
        gone: Redis expires them on its own clock."""
        span_ms = span / timedelta(milliseconds=1)
        async with asyncio.timeout(10):
            while True:
                left = [
                    remaining
                    async for key in self.client.scan_iter(match=f"{self.prefix}*")
                    if 0 <= (remaining := await self.client.pttl(key)) <= span_ms
                ]
                if not left:
                    return
                await asyncio.sleep(0.01)


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisStore]:
    """A store under a key prefix of this test's own, emptied afterwards."""
    client: Redis = create_redis_client(REDIS_URL, timeout_s=2, max_connections=30)
    prefix = f"maestrist-test:{secrets.token_hex(8)}:login:"
    try:
        yield RedisStore(RedisLoginAttemptStore(client, prefix=prefix), client, prefix)
    finally:
        leftovers = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if leftovers:
            await client.delete(*leftovers)
        await client.aclose()


@dataclass
class Attempts:
    """A store, and how to let time pass for it: a clock of the test's for the stores that
    keep deadlines on one, Redis's own clock otherwise."""

    store: LoginAttemptStore
    let_pass: Callable[[timedelta], Awaitable[None]]
    clock: FakeClock | None = None
    """The stores on a test clock: an instant before a deadline can be looked at too."""


def _on_clock(make: Callable[[FakeClock], LoginAttemptStore]) -> Attempts:
    clock = FakeClock()

    async def let_pass(span: timedelta) -> None:
        clock.advance(span)

    return Attempts(make(clock), let_pass, clock)


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis), "fake"])
def sut(request: pytest.FixtureRequest) -> Attempts:
    if request.param == "in-process":
        return _on_clock(InProcessLoginAttemptStore)
    if request.param == "fake":
        return _on_clock(FakeLoginAttemptStore)
    redis: RedisStore = request.getfixturevalue("redis_store")
    return Attempts(redis.store, redis.let_pass)


@pytest.fixture
def attempts(sut: Attempts) -> LoginAttemptStore:
    return sut.store


async def test_an_attempt_reads_back_as_it_was_put(attempts: LoginAttemptStore) -> None:
    await attempts.put("s1", ATTEMPT, MINUTE)
    await attempts.put("s2", NO_HINT, MINUTE)
    assert await attempts.take("s2") == NO_HINT
    taken = await attempts.take("s1")
    assert taken == ATTEMPT
    assert taken is not None
    assert taken.started_at.tzinfo is not None


async def test_an_attempt_is_taken_once(attempts: LoginAttemptStore) -> None:
    await attempts.put("once", ATTEMPT, MINUTE)
    assert await attempts.take("once") == ATTEMPT
    assert await attempts.take("once") is None


async def test_an_unknown_state_is_none(attempts: LoginAttemptStore) -> None:
    await attempts.put("known", ATTEMPT, MINUTE)
    assert await attempts.take("unknown") is None
    assert await attempts.take("") is None
    assert await attempts.take("known") == ATTEMPT


async def test_an_expired_attempt_is_none(sut: Attempts) -> None:
    short = timedelta(milliseconds=50)
    for state in ("short", "short-too"):
        await sut.store.put(state, ATTEMPT, short)
    await sut.store.put("long", NO_HINT, MINUTE)
    if sut.clock is not None:
        sut.clock.advance(short - timedelta(milliseconds=1))
        assert await sut.store.take("short-too") == ATTEMPT
    await sut.let_pass(short)
    assert await sut.store.take("short") is None
    assert await sut.store.take("long") == NO_HINT


async def test_putting_a_state_again_replaces_it(attempts: LoginAttemptStore) -> None:
    await attempts.put("again", ATTEMPT, MINUTE)
    await attempts.put("again", NO_HINT, MINUTE)
    assert await attempts.take("again") == NO_HINT
    assert await attempts.take("again") is None


async def test_concurrent_takes_of_one_state_have_exactly_one_winner(
    attempts: LoginAttemptStore,
) -> None:
    await attempts.put("race", ATTEMPT, MINUTE)
    taken = await asyncio.gather(*(attempts.take("race") for _ in range(20)))
    assert [t for t in taken if t is not None] == [ATTEMPT]


@pytest.mark.redis
async def test_a_redis_value_this_store_did_not_write_is_no_attempt(
    redis_store: RedisStore,
) -> None:
    """A corrupted or foreign value under an attempt's key reads as no attempt, not a crash."""
    for junk in (b"not json", b'{"nonce": 1}', b"\xff\xfe"):
        await redis_store.client.set(f"{redis_store.prefix}bad-state", junk, ex=60)
        assert await redis_store.store.take("bad-state") is None


async def test_a_sub_millisecond_ttl_is_stored_and_soon_gone(sut: Attempts) -> None:
    await sut.store.put("tiny", ATTEMPT, timedelta(microseconds=10))
    await sut.let_pass(timedelta(milliseconds=1))
    assert await sut.store.take("tiny") is None


async def test_starts_are_counted_per_client_within_a_window(attempts: LoginAttemptStore) -> None:
    counts = [(await attempts.count_start("198.51.100.7", MINUTE)).count for _ in range(3)]
    other = await attempts.count_start("2001:db8::/64", MINUTE)
    assert counts == [1, 2, 3]
    assert other.count == 1
    assert timedelta(0) < other.resets_in <= MINUTE


async def test_concurrent_starts_are_each_counted(attempts: LoginAttemptStore) -> None:
    counted = await asyncio.gather(*(attempts.count_start("c", MINUTE) for _ in range(20)))
    assert sorted(c.count for c in counted) == list(range(1, 21))


async def test_a_window_that_ended_counts_from_one_again(sut: Attempts) -> None:
    window = timedelta(milliseconds=50)
    await sut.store.count_start("c", window)
    await sut.store.count_start("c", window)
    if sut.clock is not None:
        sut.clock.advance(window - timedelta(milliseconds=1))
        assert (await sut.store.count_start("c", window)).count == 3
    await sut.let_pass(window)
    assert (await sut.store.count_start("c", MINUTE)).count == 1
