"""LoginAttemptStore and Locks contracts: in-process, Redis and the fakes alike."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from adapters.memory import InProcessLocks, InProcessLoginAttemptStore
from adapters.redis import RedisLocks, RedisLoginAttemptStore, create_redis_client
from application.errors import DependencyUnavailableError
from application.ports.locks import Locks
from application.ports.login_attempts import LoginAttemptStore, PendingLogin
from tests.conftest import REDIS_URL
from tests.fakes import FakeLocks, FakeLoginAttemptStore
from tests.fakes.clock import FakeClock

ATTEMPT = PendingLogin(
    code_verifier="v" * 43,
    nonce="n",
    return_to="/here",
    idp_hint="github",
    started_at=datetime(2026, 1, 1, tzinfo=UTC),
)


@pytest.fixture
async def redis_clients() -> AsyncIterator[list[Redis]]:
    clients = [create_redis_client(REDIS_URL, timeout_s=2, max_connections=50) for _ in range(2)]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


class _SleepingClock(FakeClock):
    """A fake clock that follows real sleeps, so TTLs can pass the same way for every store."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))

    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis), "fake"])
def attempts(request: pytest.FixtureRequest) -> LoginAttemptStore:
    if request.param == "in-process":
        return InProcessLoginAttemptStore()
    if request.param == "fake":
        return FakeLoginAttemptStore(_SleepingClock())
    clients: list[Redis] = request.getfixturevalue("redis_clients")
    return RedisLoginAttemptStore(clients[0], prefix=f"test:{secrets.token_hex(6)}:")


async def test_an_attempt_is_taken_once(attempts: LoginAttemptStore) -> None:
    await attempts.put("s1", ATTEMPT, timedelta(minutes=1))
    assert await attempts.take("s1") == ATTEMPT
    assert await attempts.take("s1") is None
    assert await attempts.take("never") is None


async def test_an_expired_attempt_is_gone(attempts: LoginAttemptStore) -> None:
    await attempts.put("s2", ATTEMPT, timedelta(milliseconds=50))
    await asyncio.sleep(0.2)
    assert await attempts.take("s2") is None


async def test_concurrent_takes_have_one_winner(attempts: LoginAttemptStore) -> None:
    await attempts.put("s3", ATTEMPT, timedelta(minutes=1))
    taken = await asyncio.gather(*(attempts.take("s3") for _ in range(20)))
    assert sum(t is not None for t in taken) == 1


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis), "fake"])
def two_nodes(request: pytest.FixtureRequest) -> tuple[Locks, Locks]:
    """Two handles on one lock space: two nodes for Redis, one process otherwise."""
    if request.param == "in-process":
        shared: Locks = InProcessLocks()
        return shared, shared
    if request.param == "fake":
        fake = FakeLocks()
        return fake, fake
    clients: list[Redis] = request.getfixturevalue("redis_clients")
    prefix = f"test:{secrets.token_hex(6)}:"
    return RedisLocks(clients[0], prefix=prefix), RedisLocks(clients[1], prefix=prefix)


async def test_holders_exclude_each_other(two_nodes: tuple[Locks, Locks]) -> None:
    holding = 0
    most = 0

    async def hold(locks: Locks) -> None:
        nonlocal holding, most
        async with locks.hold("k", ttl=timedelta(seconds=5), wait=timedelta(seconds=10)):
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(0.01)
            holding -= 1

    await asyncio.gather(*(hold(two_nodes[i % 2]) for i in range(20)))
    assert most == 1


async def test_a_busy_lock_gives_up_after_its_wait(two_nodes: tuple[Locks, Locks]) -> None:
    first, second = two_nodes
    async with first.hold("busy", ttl=timedelta(seconds=5), wait=timedelta(seconds=1)):
        with pytest.raises(DependencyUnavailableError):
            async with second.hold("busy", ttl=timedelta(seconds=5), wait=timedelta(seconds=0.1)):
                pass
    async with second.hold("busy", ttl=timedelta(seconds=5), wait=timedelta(seconds=1)):
        pass


@pytest.mark.redis
async def test_a_dead_holders_redis_lock_frees_itself_and_only_its_holder_releases(
    redis_clients: list[Redis],
) -> None:
    prefix = f"test:{secrets.token_hex(6)}:"
    await redis_clients[0].set(f"{prefix}orphan", "someone-else", px=150)
    locks = RedisLocks(redis_clients[1], prefix=prefix)
    async with locks.hold("orphan", ttl=timedelta(seconds=5), wait=timedelta(seconds=2)):
        await redis_clients[0].set(f"{prefix}orphan", "thief")
    assert await redis_clients[0].get(f"{prefix}orphan") == b"thief"
    await redis_clients[0].delete(f"{prefix}orphan")
