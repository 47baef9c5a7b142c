"""The IngestLeases contract, over the in-process adapter (which is also the fake) and the Redis
one: one owner per conversation, fences that grow, a lost lease noticed. Redis alone: two
adapters on one Redis stand in for two servers."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from adapters.memory import InProcessIngestLeases
from adapters.redis import RedisIngestLeases
from application.ports.ingest_leases import IngestLeases, Lease, LeaseLostError
from domain.conversations.value_objects import ConversationId
from domain.shared.ids import new_id
from tests.support.redis_servers import RedisServers, redis_servers

RENEWED_TTL = timedelta(seconds=3)


async def lease_key(servers: RedisServers, cid: ConversationId, owner: str) -> str:
    """The Redis key holding ``owner``'s lease on ``cid``."""
    client = servers.client()
    async for key in client.scan_iter(match=f"{servers.prefix}*{cid}*"):
        if (await client.get(key) or b"-").split()[0] == owner.encode():
            return str(key.decode())
    raise AssertionError(f"no lease of {owner} on {cid}")


async def renewals(servers: RedisServers, key: str, count: int) -> None:
    """Return once ``key``'s time to live went back up ``count`` times (it was renewed)."""
    client = servers.client()
    last = await client.pttl(key)
    seen = 0
    async with asyncio.timeout(60):
        while seen < count:
            await asyncio.sleep(0.05)
            now = await client.pttl(key)
            assert now > 0, "the lease ran out before it was renewed"
            seen += now > last
            last = now


Seize = Callable[[ConversationId], Awaitable[Lease]]


def start(
    servers: RedisServers, *, lease_ttl: timedelta = timedelta(seconds=10), renew: bool = True
) -> RedisIngestLeases:
    return servers.started(
        RedisIngestLeases(
            servers.client(),
            lease_ttl=lease_ttl,
            renew_every=None if renew else timedelta(hours=1),
            prefix=servers.prefix,
        )
    )


@pytest.fixture
async def servers() -> AsyncIterator[RedisServers]:
    async with redis_servers() as started:
        yield started


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def sut(request: pytest.FixtureRequest) -> IngestLeases:
    if request.param == "in-process":
        return InProcessIngestLeases()
    return start(request.getfixturevalue("servers"))


@pytest.fixture
def seize(sut: IngestLeases, request: pytest.FixtureRequest) -> Seize:
    """Take a conversation over from whoever holds it, as another server does once the
    holder's lease expired."""
    if isinstance(sut, InProcessIngestLeases):
        in_process = sut

        async def seize_in_process(cid: ConversationId) -> Lease:
            return in_process.seize(cid, owner="another-server")

        return seize_in_process
    servers: RedisServers = request.getfixturevalue("servers")
    other = start(servers)

    async def seize_in_redis(cid: ConversationId) -> Lease:
        await servers.clients[0].delete(f"{servers.prefix}{{{cid}}}:lease")  # as if it expired
        lease = await other.acquire(cid)
        assert lease is not None
        return lease

    return seize_in_redis


async def test_one_owner_at_a_time_with_growing_fences(sut: IngestLeases) -> None:
    cid = ConversationId(new_id())
    first = await sut.acquire(cid)
    assert first is not None
    assert await sut.acquire(cid) is None
    await sut.ensure_current(first)
    await sut.release(first)
    second = await sut.acquire(cid)
    assert second is not None
    assert second.fence > first.fence
    with pytest.raises(LeaseLostError):
        await sut.ensure_current(first)
    await sut.release(first)  # a lost lease releases nothing
    assert await sut.acquire(cid) is None
    other = await sut.acquire(ConversationId(new_id()))
    assert other is not None


async def test_a_lease_taken_over_is_lost(sut: IngestLeases, seize: Seize) -> None:
    cid = ConversationId(new_id())
    mine = await sut.acquire(cid)
    assert mine is not None
    theirs = await seize(cid)
    assert theirs.fence > mine.fence
    with pytest.raises(LeaseLostError):
        await sut.ensure_current(mine)
    await sut.ensure_current(theirs)


# Redis alone: two adapters on one Redis are two servers.


@pytest.mark.redis
async def test_a_second_server_takes_over_an_expired_lease_with_a_greater_fence(
    servers: RedisServers,
) -> None:
    first = start(servers, renew=False)  # a server that hangs
    second = start(servers)
    cid = ConversationId(new_id())
    mine = await first.acquire(cid)
    assert mine is not None
    assert mine.owner == first.owner != second.owner
    assert await second.acquire(cid) is None
    assert await first.acquire(cid) is None  # not twice on one server either
    key = await lease_key(servers, cid, first.owner)
    assert 0 < await servers.client().pttl(key) <= 10_000
    await servers.client().delete(key)  # its time to live ran out, as Redis expires it
    theirs = await second.acquire(cid)
    assert theirs is not None
    assert theirs.owner == second.owner
    assert theirs.fence > mine.fence
    with pytest.raises(LeaseLostError):
        await first.ensure_current(mine)  # the stale owner notices before it appends
    await first.release(mine)  # and releases nothing of the new owner's
    assert await first.acquire(cid) is None
    await second.ensure_current(theirs)


@pytest.mark.redis
async def test_a_live_owner_keeps_its_lease_past_the_time_to_live(servers: RedisServers) -> None:
    owner = start(servers, lease_ttl=RENEWED_TTL)
    other = start(servers, lease_ttl=RENEWED_TTL)
    cid = ConversationId(new_id())
    lease = await owner.acquire(cid)
    assert lease is not None
    # renewed every third of its life: four renewals take it past its first time to live
    await renewals(servers, await lease_key(servers, cid, owner.owner), 4)
    assert await other.acquire(cid) is None
    await owner.ensure_current(lease)


@pytest.mark.redis
async def test_a_server_shutting_down_hands_its_leases_back(servers: RedisServers) -> None:
    leaving, staying = start(servers), start(servers)
    cid = ConversationId(new_id())
    lease = await leaving.acquire(cid)
    assert lease is not None
    await leaving.aclose()
    taken = await staying.acquire(cid)
    assert taken is not None
    assert taken.fence > lease.fence


@pytest.mark.redis
async def test_fences_keep_growing_when_the_counter_is_lost(servers: RedisServers) -> None:
    server = start(servers)
    cid = ConversationId(new_id())
    before = await server.acquire(cid)
    assert before is not None
    await server.release(before)
    await servers.clients[0].delete(f"{servers.prefix}{{{cid}}}:fence")
    after = await server.acquire(cid)
    assert after is not None
    assert after.fence > before.fence
