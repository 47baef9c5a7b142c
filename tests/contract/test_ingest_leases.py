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
    servers: RedisServers,
    *,
    lease_ttl: timedelta = timedelta(seconds=10),
    renew: bool = True,
    node: str | None = None,
) -> RedisIngestLeases:
    return servers.started(
        RedisIngestLeases(
            servers.client(),
            lease_ttl=lease_ttl,
            renew_every=None if renew else timedelta(hours=1),
            prefix=servers.prefix,
            node=node,
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
    await sut.release(first, finished=True)
    second = await sut.acquire(cid)
    assert second is not None
    assert second.fence > first.fence
    with pytest.raises(LeaseLostError):
        await sut.ensure_current(first)
    await sut.release(first, finished=True)  # a lost lease releases nothing
    assert await sut.acquire(cid) is None
    other = await sut.acquire(ConversationId(new_id()))
    assert other is not None


async def test_a_lease_taken_over_is_lost(sut: IngestLeases, seize: Seize) -> None:
    cid = ConversationId(new_id())
    mine = await sut.acquire(cid)
    assert mine is not None
    assert sut.still_held(mine)
    theirs = await seize(cid)
    assert theirs.fence > mine.fence
    with pytest.raises(LeaseLostError):
        await sut.ensure_current(mine)
    assert not sut.still_held(mine)
    await sut.ensure_current(theirs)
    await sut.release(mine, finished=False)  # nor does it make an orphan of theirs
    assert cid not in await sut.orphans(100)


async def test_a_lease_released_unfinished_is_an_orphan_until_taken_again(
    sut: IngestLeases,
) -> None:
    left, done, held = (ConversationId(new_id()) for _ in range(3))
    leases = {cid: await sut.acquire(cid) for cid in (left, done, held)}
    assert all(leases.values())
    assert not set(await sut.orphans(100)) & {left, done, held}
    left_lease, done_lease = leases[left], leases[done]
    assert left_lease is not None
    assert done_lease is not None
    await sut.release(left_lease, finished=False)
    await sut.release(done_lease, finished=True)
    assert set(await sut.orphans(100)) & {left, done, held} == {left}
    taken = await sut.acquire(left)
    assert taken is not None
    assert taken.fence > left_lease.fence
    assert left not in await sut.orphans(100)


async def test_orphans_come_at_most_limit_at_a_time(sut: IngestLeases) -> None:
    orphaned = [ConversationId(new_id()) for _ in range(3)]
    for cid in orphaned:
        lease = await sut.acquire(cid)
        assert lease is not None
        await sut.release(lease, finished=False)
    some = await sut.orphans(2)
    assert len(some) == 2
    assert set(some) <= set(orphaned)
    assert set(orphaned) <= set(await sut.orphans(100))
    assert await sut.orphans(0) == []


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
    await first.release(mine, finished=True)  # and releases nothing of the new owner's
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
    assert cid not in await other.orphans(100)
    await owner.ensure_current(lease)


@pytest.mark.redis
async def test_a_renewal_that_finds_the_lease_lost_says_so_without_asking_again(
    servers: RedisServers,
) -> None:
    owner = start(servers, lease_ttl=RENEWED_TTL)
    cid = ConversationId(new_id())
    lease = await owner.acquire(cid)
    assert lease is not None
    await servers.clients[0].delete(await lease_key(servers, cid, owner.owner))  # taken over
    async with asyncio.timeout(30):
        while owner.still_held(lease):
            await asyncio.sleep(0.05)


@pytest.mark.redis
async def test_an_owner_that_dies_leaves_an_orphan_as_soon_as_its_lease_expires(
    servers: RedisServers,
) -> None:
    dying = start(servers, lease_ttl=timedelta(milliseconds=300), renew=False)
    other = start(servers)
    cid = ConversationId(new_id())
    lease = await dying.acquire(cid)
    assert lease is not None
    assert cid not in await other.orphans(100)
    async with asyncio.timeout(30):
        while cid not in await other.orphans(100):
            await asyncio.sleep(0.05)
    taken = await other.acquire(cid)
    assert taken is not None
    assert taken.fence > lease.fence
    assert cid not in await other.orphans(100)


@pytest.mark.redis
async def test_a_restarted_node_takes_its_conversations_back_at_once(
    servers: RedisServers,
) -> None:
    """A server restarted where it ran before (same host and port, same worker) holds what
    its dead run held as soon as it asks, with a greater fence; another node still waits."""
    dead = start(servers, renew=False, node="host-a:8000/1")
    cid = ConversationId(new_id())
    before = await dead.acquire(cid)
    assert before is not None
    neighbour = start(servers, node="host-a:8000/10")  # a name that starts the same
    elsewhere = start(servers, node="host-b:8000/1")
    assert await neighbour.acquire(cid) is None
    assert await elsewhere.acquire(cid) is None
    restarted = start(servers, node="host-a:8000/1")
    assert restarted.owner != dead.owner
    after = await restarted.acquire(cid)
    assert after is not None
    assert after.fence > before.fence
    assert await restarted.acquire(cid) is None  # a run does not take from itself
    with pytest.raises(LeaseLostError):
        await dead.ensure_current(before)


@pytest.mark.redis
async def test_a_server_shutting_down_hands_its_leases_back(servers: RedisServers) -> None:
    leaving, staying = start(servers), start(servers)
    cid = ConversationId(new_id())
    lease = await leaving.acquire(cid)
    assert lease is not None
    await leaving.aclose()
    assert cid in await staying.orphans(100)  # at once, not after its time to live
    taken = await staying.acquire(cid)
    assert taken is not None
    assert taken.fence > lease.fence


@pytest.mark.redis
async def test_fences_keep_growing_when_the_counter_is_lost(servers: RedisServers) -> None:
    server = start(servers)
    cid = ConversationId(new_id())
    before = await server.acquire(cid)
    assert before is not None
    await server.release(before, finished=True)
    await servers.clients[0].delete(f"{servers.prefix}{{{cid}}}:fence")
    after = await server.acquire(cid)
    assert after is not None
    assert after.fence > before.fence


@pytest.mark.redis
async def test_a_finished_conversation_never_becomes_an_orphan(servers: RedisServers) -> None:
    """Its deadline goes with its lease: long after the lease's time, no sweep takes it up
    again (each one would find it ended and let it go, for ever)."""
    short = start(servers, lease_ttl=timedelta(milliseconds=200), renew=False)
    done, dropped = ConversationId(new_id()), ConversationId(new_id())
    for cid in (done, dropped):
        lease = await short.acquire(cid)
        assert lease is not None
        if cid == done:
            await short.release(lease, finished=True)
    async with asyncio.timeout(30):  # the lease dropped without release lapses: time passed
        while dropped not in await short.orphans(100):
            await asyncio.sleep(0.05)
    assert done not in await short.orphans(100)


@pytest.mark.redis
async def test_a_member_of_the_deadlines_that_is_not_a_conversation_is_ignored(
    servers: RedisServers,
) -> None:
    leases = start(servers)
    left = ConversationId(new_id())
    lease = await leases.acquire(left)
    assert lease is not None
    await leases.release(lease, finished=False)
    await servers.clients[0].zadd(f"{servers.prefix}leases-due", {"not-a-conversation": 0})
    assert await leases.orphans(100) == [left]


@pytest.mark.redis
async def test_a_lease_and_fence_an_earlier_release_wrote_are_the_ones_kept(
    servers: RedisServers,
) -> None:
    """Servers of two releases share Redis during a rolling upgrade, so the keys' names are part
    of the protocol: under its default names this release finds the lease an earlier server
    holds and goes on from the fence it counted. (Tests elsewhere use prefixes of their own.)"""
    client = servers.client()
    cid = ConversationId(new_id())
    lease_key = f"maestrist:conversation:{{{cid}}}:lease"
    fence_key = f"maestrist:conversation:{{{cid}}}:fence"
    counted = 5 * 10**15  # past the microsecond clock the fences start from, below 2**53
    await client.set(fence_key, counted, px=60_000)
    await client.set(lease_key, f"earlier-release {counted}", px=60_000)
    current = servers.started(RedisIngestLeases(client))
    try:
        assert await current.acquire(cid) is None
        await client.delete(lease_key)  # the earlier server's lease ran out
        lease = await current.acquire(cid)
        assert lease is not None
        assert lease.fence == counted + 1
        assert await client.get(lease_key) == f"{current.owner} {counted + 1}".encode()
        await current.release(lease, finished=True)
    finally:
        await client.delete(lease_key, fence_key)
        await client.zrem("maestrist:conversation:leases-due", str(cid))


@pytest.mark.redis
async def test_a_lease_lives_as_long_as_set_and_a_fence_counter_a_week(
    servers: RedisServers,
) -> None:
    """The time to live an operator sets is how long a dead server's conversations wait for a
    new owner, and the margin its renewals (every third of it) have; the fence counter outlives
    a conversation left quiet for days. Either kept for half as long would show here (checked
    at once after the lease is taken, so only a stall of half of it could blur them)."""
    server = start(servers, lease_ttl=timedelta(seconds=30), renew=False)
    cid = ConversationId(new_id())
    assert await server.acquire(cid) is not None
    client = servers.clients[0]
    lease_left = timedelta(milliseconds=await client.pttl(f"{servers.prefix}{{{cid}}}:lease"))
    fence_left = timedelta(milliseconds=await client.pttl(f"{servers.prefix}{{{cid}}}:fence"))
    assert timedelta(seconds=15) < lease_left <= timedelta(seconds=30)
    assert timedelta(days=3.5) < fence_left <= timedelta(days=7)
