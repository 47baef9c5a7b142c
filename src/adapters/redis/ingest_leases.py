import asyncio
import contextlib
import logging
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports.ingest_leases import IngestLeases, Lease, LeaseLostError
from application.tasks import cancel_and_wait
from domain.conversations.value_objects import ConversationId

__all__ = ("RedisIngestLeases",)

_log = logging.getLogger(__name__)

_ACQUIRE = """
local held = redis.call('get', KEYS[1])
if held then
  local earlier_run = ARGV[4] ~= '' and string.sub(held, 1, #ARGV[4]) == ARGV[4]
    and string.sub(held, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' '
  if not earlier_run then return false end
end
local now = redis.call('time')
local floor = tonumber(now[1]) * 1000000 + tonumber(now[2])
local fence = redis.call('incr', KEYS[2])
if fence < floor then
  fence = floor
  redis.call('set', KEYS[2], string.format('%d', fence))
end
redis.call('pexpire', KEYS[2], ARGV[3])
redis.call('set', KEYS[1], ARGV[1] .. ' ' .. string.format('%d', fence), 'PX', ARGV[2])
return {fence, math.floor(floor / 1000) + tonumber(ARGV[2])}
"""
"""Take a free lease, or one an earlier run of this owner's place still holds (``ARGV[4]``, its
name's prefix). The fence is the conversation's counter plus one, and never less than Redis's
clock in microseconds, so it still grows after the counter expired or was lost. Answers the
fence and the lease's deadline in Redis's milliseconds."""

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  local now = redis.call('time')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[2])
end
return 0
"""
"""Renew a lease still ours; answers its new deadline, or 0."""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_FENCE_TTL = timedelta(days=7)
"""How long an idle conversation's fence counter is kept; the clock floor covers the rest."""


class RedisIngestLeases(IngestLeases):
    """Leases shared by every server on one Redis.

    A lease is a key per conversation holding the owner's id and fence, set only while absent
    and kept for ``lease_ttl``; the fence comes from the conversation's ``INCR`` counter. This
    server renews the leases it holds every ``renew_every``, and ``ensure_current`` renews one
    only while it is still ours (compare, then ``PEXPIRE``); a release deletes it only while
    ours. An owner that dies stops renewing, its lease expires, and the next server to acquire
    it gets a greater fence.

    Orphans are found without a scan: one sorted set holds each unfinished lease's deadline
    (Redis's clock), set on acquiring and on every renewal, removed when a lease ends finished
    and set to zero when it ends orphaned; those whose deadline has passed are the orphans. It
    is a hint, written beside the lease: the lease itself decides who owns a conversation.

    With ``node`` (a name for the owner's place, such as its host and port) the owner is named
    ``node#run``, and a lease an earlier run of the same node still holds is handed to this run
    at once, instead of after its time to live: a server restarted where it ran before takes
    its own conversations back.
    """

    def __init__(
        self,
        client: Redis,
        *,
        lease_ttl: timedelta = timedelta(seconds=30),
        renew_every: timedelta | None = None,
        prefix: str = "maestrist:conversation:",
        node: str | None = None,
    ) -> None:
        self._ttl_ms = max(1, int(lease_ttl / timedelta(milliseconds=1)))
        every = renew_every if renew_every is not None else lease_ttl / 3
        self._renew_every_s = max(0.01, every.total_seconds())
        self._fence_ttl_ms = int(_FENCE_TTL / timedelta(milliseconds=1))
        self._prefix = prefix
        self._client = client
        self._due_key = f"{prefix}leases-due"
        self._node_prefix = "" if node is None else f"{node}#"
        self.owner = secrets.token_hex(8) if node is None else f"{node}#{secrets.token_hex(4)}"
        """This server process's id in the leases it holds."""
        self._acquire_script = client.register_script(_ACQUIRE)
        self._renew_script = client.register_script(_RENEW)
        self._release_script = client.register_script(_RELEASE)
        self._held: dict[ConversationId, Lease] = {}
        self._renewer: asyncio.Task[None] | None = None

    def _key(self, conversation_id: ConversationId, what: str) -> str:
        # One hash slot per conversation, so the scripts also run on a Redis cluster.
        return f"{self._prefix}{{{conversation_id}}}:{what}"

    @staticmethod
    def _token(lease: Lease) -> str:
        return f"{lease.owner} {lease.fence}"

    async def acquire(self, conversation_id: ConversationId) -> Lease | None:
        try:
            taken = await self._acquire_script(
                keys=[self._key(conversation_id, "lease"), self._key(conversation_id, "fence")],
                args=[self.owner, self._ttl_ms, self._fence_ttl_ms, self._node_prefix],
            )
            if taken is None:
                return None
            fence, deadline = (int(value) for value in taken)
            await self._client.zadd(self._due_key, {str(conversation_id): deadline})
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        lease = Lease(conversation_id=conversation_id, fence=fence, owner=self.owner)
        self._held[conversation_id] = lease
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_held(), name="conversation-leases")
        return lease

    async def _renew(self, lease: Lease) -> int:
        """The lease's new deadline, or 0 when it is no longer ours."""
        deadline = int(
            await self._renew_script(
                keys=[self._key(lease.conversation_id, "lease")],
                args=[self._token(lease), self._ttl_ms],
            )
        )
        if not deadline and self._held.get(lease.conversation_id) == lease:
            del self._held[lease.conversation_id]
        return deadline

    async def ensure_current(self, lease: Lease) -> None:
        # The deadline in the sorted set is left to the periodic renewal: it may lag behind the
        # lease's by one period, which only makes a live lease look orphaned a moment early.
        try:
            renewed = await self._renew(lease)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        if not renewed:
            raise LeaseLostError

    def still_held(self, lease: Lease) -> bool:
        return self._held.get(lease.conversation_id) == lease

    async def release(self, lease: Lease, *, finished: bool) -> None:
        if self._held.get(lease.conversation_id) == lease:
            del self._held[lease.conversation_id]
        try:
            released = await self._release_script(
                keys=[self._key(lease.conversation_id, "lease")], args=[self._token(lease)]
            )
            if not released:
                return  # lost: whoever holds it now keeps its deadline
            if finished:
                await self._client.zrem(self._due_key, str(lease.conversation_id))
            else:
                await self._client.zadd(self._due_key, {str(lease.conversation_id): 0})
        except (RedisError, OSError) as exc:  # its time to live frees it; then it is an orphan
            _log.warning("lease of conversation %s not released: %s", lease.conversation_id, exc)

    async def orphans(self, limit: int) -> Sequence[ConversationId]:
        try:
            seconds, micros = await self._client.time()
            found = await self._client.zrangebyscore(
                self._due_key, "-inf", seconds * 1000 + micros // 1000, start=0, num=limit
            )
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        orphans: list[ConversationId] = []
        for raw in found:
            member = raw.decode() if isinstance(raw, bytes) else str(raw)
            with contextlib.suppress(ValueError):  # not one of ours: ignored
                orphans.append(ConversationId(uuid.UUID(member)))
        return orphans

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self._renew_every_s)
            deadlines: dict[str, int] = {}
            for lease in tuple(self._held.values()):
                try:
                    deadline = await self._renew(lease)
                except (RedisError, OSError) as exc:
                    _log.warning(
                        "lease of conversation %s not renewed: %s", lease.conversation_id, exc
                    )
                    continue
                if deadline:
                    deadlines[str(lease.conversation_id)] = deadline
                else:
                    _log.warning("lease of conversation %s lost", lease.conversation_id)
            if deadlines:
                try:
                    await self._client.zadd(self._due_key, deadlines)
                except (RedisError, OSError) as exc:
                    _log.warning("lease deadlines not recorded: %s", exc)

    async def aclose(self) -> None:
        """Stop renewing and give up every lease held, as orphans for the servers that go on."""
        if self._renewer is not None:
            await cancel_and_wait(self._renewer)
        for lease in tuple(self._held.values()):
            await self.release(lease, finished=False)
