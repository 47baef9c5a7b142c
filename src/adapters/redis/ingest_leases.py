import asyncio
import logging
import secrets
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports.ingest_leases import IngestLeases, Lease, LeaseLostError
from domain.conversations.value_objects import ConversationId

__all__ = ("RedisIngestLeases",)

_log = logging.getLogger(__name__)

_ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then return false end
local now = redis.call('time')
local floor = tonumber(now[1]) * 1000000 + tonumber(now[2])
local fence = redis.call('incr', KEYS[2])
if fence < floor then
  fence = floor
  redis.call('set', KEYS[2], string.format('%d', fence))
end
redis.call('pexpire', KEYS[2], ARGV[3])
redis.call('set', KEYS[1], ARGV[1] .. ' ' .. string.format('%d', fence), 'NX', 'PX', ARGV[2])
return fence
"""
"""Take a free lease. The fence is the conversation's counter plus one, and never less than
Redis's clock in microseconds, so it still grows after the counter expired or was lost."""

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""

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
    """

    def __init__(
        self,
        client: Redis,
        *,
        lease_ttl: timedelta = timedelta(seconds=30),
        renew_every: timedelta | None = None,
        prefix: str = "maestrist:conversation:",
        owner: str | None = None,
    ) -> None:
        self._ttl_ms = max(1, int(lease_ttl / timedelta(milliseconds=1)))
        every = renew_every if renew_every is not None else lease_ttl / 3
        self._renew_every_s = max(0.01, every.total_seconds())
        self._fence_ttl_ms = int(_FENCE_TTL / timedelta(milliseconds=1))
        self._prefix = prefix
        self.owner = owner or secrets.token_hex(8)
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
            fence = await self._acquire_script(
                keys=[self._key(conversation_id, "lease"), self._key(conversation_id, "fence")],
                args=[self.owner, self._ttl_ms, self._fence_ttl_ms],
            )
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        if fence is None:
            return None
        lease = Lease(conversation_id=conversation_id, fence=int(fence), owner=self.owner)
        self._held[conversation_id] = lease
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_held(), name="conversation-leases")
        return lease

    async def _renew(self, lease: Lease) -> bool:
        renewed = await self._renew_script(
            keys=[self._key(lease.conversation_id, "lease")],
            args=[self._token(lease), self._ttl_ms],
        )
        if renewed:
            return True
        if self._held.get(lease.conversation_id) == lease:
            del self._held[lease.conversation_id]
        return False

    async def ensure_current(self, lease: Lease) -> None:
        try:
            renewed = await self._renew(lease)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        if not renewed:
            raise LeaseLostError

    async def release(self, lease: Lease) -> None:
        if self._held.get(lease.conversation_id) == lease:
            del self._held[lease.conversation_id]
        try:
            await self._release_script(
                keys=[self._key(lease.conversation_id, "lease")], args=[self._token(lease)]
            )
        except (RedisError, OSError) as exc:  # its time to live frees it
            _log.warning("lease of conversation %s not released: %s", lease.conversation_id, exc)

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self._renew_every_s)
            for lease in tuple(self._held.values()):
                try:
                    if not await self._renew(lease):
                        _log.warning("lease of conversation %s lost", lease.conversation_id)
                except (RedisError, OSError) as exc:
                    _log.warning(
                        "lease of conversation %s not renewed: %s", lease.conversation_id, exc
                    )

    async def aclose(self) -> None:
        """Stop renewing and give up every lease held."""
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.wait([self._renewer])
        for lease in tuple(self._held.values()):
            await self.release(lease)
