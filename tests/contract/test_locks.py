"""The Locks contract: in-process, Redis (two clients standing in for two nodes) and the fake."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.memory import InProcessLocks
from adapters.redis import RedisLocks, create_redis_client
from application.errors import DependencyUnavailableError
from application.ports.locks import Locks
from tests.conftest import REDIS_URL
from tests.fakes import FakeLocks

LONG = timedelta(seconds=10)
SHORT = timedelta(milliseconds=100)


@dataclass
class Nodes:
    """Two handles on one lock space: two Redis clients for Redis, one object otherwise."""

    first: Locks
    second: Locks


@dataclass
class RedisNodes:
    clients: tuple[Redis, Redis]
    prefix: str

    def locks(self, client: Redis) -> RedisLocks:
        return RedisLocks(client, prefix=self.prefix)


@pytest.fixture
async def redis_nodes() -> AsyncIterator[RedisNodes]:
    """Two clients and a key prefix of this test's own, emptied afterwards."""
    first, second = (
        create_redis_client(REDIS_URL, timeout_s=2, max_connections=30) for _ in range(2)
    )
    prefix = f"maestrist-test:{secrets.token_hex(8)}:lock:"
    try:
        yield RedisNodes((first, second), prefix)
    finally:
        leftovers = [key async for key in first.scan_iter(match=f"{prefix}*")]
        if leftovers:
            await first.delete(*leftovers)
        await first.aclose()
        await second.aclose()


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis), "fake"])
def nodes(request: pytest.FixtureRequest) -> Nodes:
    if request.param == "in-process":
        shared: Locks = InProcessLocks()
        return Nodes(shared, shared)
    if request.param == "fake":
        fake = FakeLocks()
        return Nodes(fake, fake)
    redis: RedisNodes = request.getfixturevalue("redis_nodes")
    return Nodes(redis.locks(redis.clients[0]), redis.locks(redis.clients[1]))


async def _is_free(locks: Locks, key: str) -> bool:
    try:
        async with locks.hold(key, ttl=LONG, wait=SHORT):
            return True
    except DependencyUnavailableError:
        return False


async def test_twenty_holders_exclude_each_other(nodes: Nodes) -> None:
    holding = most = entered = 0

    async def hold(locks: Locks) -> None:
        nonlocal holding, most, entered
        async with locks.hold("shared", ttl=LONG, wait=LONG):
            holding += 1
            entered += 1
            most = max(most, holding)
            await asyncio.sleep(0.005)
            holding -= 1

    handles = (nodes.first, nodes.second)
    await asyncio.gather(*(hold(handles[i % 2]) for i in range(20)))
    assert (most, entered) == (1, 20)


async def test_a_busy_lock_gives_up_after_its_wait_and_frees_on_release(nodes: Nodes) -> None:
    async with nodes.first.hold("busy", ttl=LONG, wait=LONG):
        with pytest.raises(DependencyUnavailableError):
            async with nodes.second.hold("busy", ttl=LONG, wait=SHORT):
                pytest.fail("two holders at once")
    assert await _is_free(nodes.second, "busy")


async def test_other_keys_are_not_held(nodes: Nodes) -> None:
    async with nodes.first.hold("one", ttl=LONG, wait=LONG):
        assert await _is_free(nodes.second, "two")


async def test_a_holder_that_fails_or_is_cancelled_releases(nodes: Nodes) -> None:
    with pytest.raises(RuntimeError):
        async with nodes.first.hold("failing", ttl=LONG, wait=LONG):
            raise RuntimeError("the work failed")
    assert await _is_free(nodes.second, "failing")

    inside = asyncio.Event()

    async def stuck() -> None:
        async with nodes.first.hold("cancelled", ttl=LONG, wait=LONG):
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    assert not await _is_free(nodes.second, "cancelled")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _is_free(nodes.second, "cancelled")


@pytest.mark.redis
async def test_a_dead_holders_redis_lock_frees_itself_after_its_ttl(
    redis_nodes: RedisNodes,
) -> None:
    """A holder that died holding the lock: its key, with a token nobody has, set raw."""
    first, second = (redis_nodes.locks(client) for client in redis_nodes.clients)
    key = f"{redis_nodes.prefix}orphan"
    await redis_nodes.clients[0].set(key, "dead-holder")
    assert not await _is_free(second, "orphan")
    await redis_nodes.clients[0].pexpire(key, 150)  # the TTL its holder had left
    async with first.hold("orphan", ttl=LONG, wait=LONG):
        assert not await _is_free(second, "orphan")
    assert await _is_free(second, "orphan")


@pytest.mark.redis
async def test_a_stalled_holder_past_its_ttl_cannot_release_the_next_holders_lock(
    redis_nodes: RedisNodes,
) -> None:
    """Node A holds with a short ttl and stalls past it; node B takes the lock; when A
    finally lets go, B's lock must stay held (release compares the holder's token)."""
    a, b = (redis_nodes.locks(client) for client in redis_nodes.clients)
    stalled = a.hold("stall", ttl=timedelta(milliseconds=150), wait=LONG)
    await stalled.__aenter__()
    try:
        async with b.hold("stall", ttl=LONG, wait=LONG):
            await stalled.__aexit__(None, None, None)
            assert not await _is_free(a, "stall")
            assert await redis_nodes.clients[0].exists(f"{redis_nodes.prefix}stall") == 1
    finally:
        await stalled.__aexit__(None, None, None)
    assert await _is_free(a, "stall")


@pytest.mark.redis
async def test_only_the_holder_releases_a_redis_lock(redis_nodes: RedisNodes) -> None:
    """Someone else's value under the key (the lock was lost and taken) survives our release."""
    locks = redis_nodes.locks(redis_nodes.clients[1])
    key = f"{redis_nodes.prefix}taken"
    async with locks.hold("taken", ttl=LONG, wait=LONG):
        await redis_nodes.clients[0].set(key, "another-holder")
    assert await redis_nodes.clients[0].get(key) == b"another-holder"


async def test_a_free_lock_is_taken_without_waiting(nodes: Nodes) -> None:
    async with nodes.first.hold("free", ttl=LONG, wait=timedelta(0)):
        pass


class _SlowReplies(Redis):
    """A client whose SET answers never arrive: the command lands, its reply is lost, and
    ``landed`` says when it has landed."""

    landed: asyncio.Event

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        await super().set(*args, **kwargs)
        self.landed.set()
        await asyncio.Event().wait()


def _slow_replies() -> _SlowReplies:
    slow = _SlowReplies.from_url(REDIS_URL)
    assert isinstance(slow, _SlowReplies)
    slow.landed = asyncio.Event()
    return slow


@pytest.mark.redis
async def test_a_hold_that_gave_up_leaves_no_lock_behind(redis_nodes: RedisNodes) -> None:
    slow = _slow_replies()
    try:
        with pytest.raises(DependencyUnavailableError):
            async with RedisLocks(slow, prefix=redis_nodes.prefix).hold(
                "late", ttl=LONG, wait=SHORT
            ):
                pytest.fail("the hold should have given up")
    finally:
        await slow.aclose()
    assert await _is_free(redis_nodes.locks(redis_nodes.clients[0]), "late")


@pytest.mark.redis
async def test_a_hold_cancelled_while_its_set_is_in_flight_leaves_no_lock_behind(
    redis_nodes: RedisNodes,
) -> None:
    slow = _slow_replies()
    key = f"{redis_nodes.prefix}cancelled-late"
    try:

        async def hold() -> None:
            async with RedisLocks(slow, prefix=redis_nodes.prefix).hold(
                "cancelled-late", ttl=LONG, wait=LONG
            ):
                pytest.fail("the hold should have been cancelled")

        task = asyncio.create_task(hold())
        async with asyncio.timeout(10):
            await slow.landed.wait()
        assert await redis_nodes.clients[0].exists(key) == 1, "the SET should have landed"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await slow.aclose()
    assert await redis_nodes.clients[0].exists(key) == 0
    assert await _is_free(redis_nodes.locks(redis_nodes.clients[0]), "cancelled-late")


async def test_a_busy_lock_with_no_wait_gives_up_at_once(nodes: Nodes) -> None:
    """The holder keeps the lock until the attempt ends: an attempt that waited for it would
    never end, and the bound turns that into a failure."""
    async with nodes.first.hold("no-wait", ttl=LONG, wait=LONG):
        with pytest.raises(DependencyUnavailableError):
            async with (
                asyncio.timeout(LONG.total_seconds() / 2),
                nodes.second.hold("no-wait", ttl=LONG, wait=timedelta(0)),
            ):
                pytest.fail("two holders at once")


@pytest.mark.redis
async def test_a_hundred_holders_in_one_process_queue_without_exhausting_a_small_pool(
    redis_nodes: RedisNodes,
) -> None:
    """Waiters of one process queue in-process, so only one at a time polls Redis: a pool of
    three connections serves a hundred of them with no ``Too many connections``."""
    small = create_redis_client(REDIS_URL, timeout_s=2, max_connections=3)
    locks = RedisLocks(small, prefix=redis_nodes.prefix)
    entered = 0
    try:

        async def hold() -> None:
            nonlocal entered
            async with locks.hold("crowded", ttl=LONG, wait=LONG):
                entered += 1
                await asyncio.sleep(0.001)

        await asyncio.gather(*(hold() for _ in range(100)))
    finally:
        await small.aclose()
    assert entered == 100
