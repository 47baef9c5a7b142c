import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports.conversation_coordinator import (
    ConversationCoordinator,
    Lease,
    LeaseLostError,
    SubscriberTooSlowError,
    Subscription,
)
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.shared.errors import InvalidValueError

__all__ = ("RedisConversationCoordinator",)

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


class _Event(msgspec.Struct, frozen=True):
    seq: int
    event_id: str
    kind: str
    source: str
    type: EventType
    occurred_at: datetime
    payload: dict[str, Any]


class _Published(msgspec.Struct, frozen=True):
    """What goes over a conversation's channel: events as stored, in order."""

    events: list[_Event]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Published)


async def _close(pubsub: PubSub) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


class _Subscriber(Subscription):
    def __init__(self, buffer: int) -> None:
        self._buffer = buffer
        self._queue: deque[StoredEvent] = deque()
        self._ready = asyncio.Event()
        self._error: Exception | None = None

    def offer(self, events: Sequence[StoredEvent]) -> None:
        if self._error is not None:
            return
        if len(self._queue) + len(events) > self._buffer:
            self._error = SubscriberTooSlowError(self._buffer)
        else:
            self._queue.extend(events)
        self._ready.set()

    def fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[StoredEvent]:
        return self._read()

    async def _read(self) -> AsyncIterator[StoredEvent]:
        while True:
            if self._error is not None:
                raise self._error
            if self._queue:
                yield self._queue.popleft()
                continue
            self._ready.clear()
            await self._ready.wait()


class _Channel:
    """This server's subscribers of one conversation's channel."""

    def __init__(self, conversation_id: ConversationId) -> None:
        self.conversation_id = conversation_id
        self.subscribers: set[_Subscriber] = set()
        self.confirmed = asyncio.Event()
        self.error: Exception | None = None

    def fail(self, error: Exception) -> None:
        self.error = error
        self.confirmed.set()
        for subscriber in self.subscribers:
            subscriber.fail(error)


class RedisConversationCoordinator(ConversationCoordinator):
    """Leases and live fan-out shared by every server on one Redis.

    A lease is a key per conversation holding the owner's id and fence, set only while absent
    and kept for ``lease_ttl``; the fence comes from the conversation's ``INCR`` counter. This
    server renews the leases it holds every ``renew_every``, and ``ensure_current`` renews one
    only while it is still ours (compare, then ``PEXPIRE``); a release deletes it only while
    ours. An owner that dies stops renewing, its lease expires, and the next server to acquire
    it gets a greater fence.

    Stored events are published on the conversation's channel. Each server holds one pub/sub
    connection, subscribed to the channels its own subscribers listen to, and fans every
    message out locally into bounded buffers: a subscriber that falls ``buffer`` events behind
    is cut off alone. ``subscribe`` returns only once Redis confirmed the channel, so a reader
    that subscribes, then reads what is stored, misses nothing in between. When the pub/sub
    connection breaks (events may have been lost meanwhile), its subscribers are ended with
    ``DependencyUnavailableError``; they reconnect with the last ``seq`` they got.
    """

    def __init__(
        self,
        client: Redis,
        *,
        lease_ttl: timedelta = timedelta(seconds=30),
        renew_every: timedelta | None = None,
        confirm_timeout: timedelta = timedelta(seconds=5),
        prefix: str = "maestrist:conversation:",
        owner: str | None = None,
    ) -> None:
        self._client = client
        self._ttl_ms = max(1, int(lease_ttl / timedelta(milliseconds=1)))
        every = renew_every if renew_every is not None else lease_ttl / 3
        self._renew_every_s = max(0.01, every.total_seconds())
        self._confirm_timeout_s = confirm_timeout.total_seconds()
        self._fence_ttl_ms = int(_FENCE_TTL / timedelta(milliseconds=1))
        self._prefix = prefix
        self.owner = owner or secrets.token_hex(8)
        """This server process's id in the leases it holds."""
        self._acquire_script = client.register_script(_ACQUIRE)
        self._renew_script = client.register_script(_RENEW)
        self._release_script = client.register_script(_RELEASE)
        self._held: dict[ConversationId, Lease] = {}
        self._renewer: asyncio.Task[None] | None = None
        self._channels: dict[bytes, _Channel] = {}
        self._unconfirmed: dict[bytes, int] = {}
        """SUBSCRIBEs sent per channel that Redis has not answered yet."""
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._commands = asyncio.Lock()

    def _key(self, conversation_id: ConversationId, what: str) -> str:
        # One hash slot per conversation, so the scripts also run on a Redis cluster.
        return f"{self._prefix}{{{conversation_id}}}:{what}"

    def _channel_name(self, conversation_id: ConversationId) -> bytes:
        return self._key(conversation_id, "events").encode()

    @staticmethod
    def _token(lease: Lease) -> str:
        return f"{lease.owner} {lease.fence}"

    # Leases

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

    # Live fan-out

    async def publish(self, conversation_id: ConversationId, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        message = _Published(
            events=[
                _Event(
                    seq=event.seq,
                    event_id=event.event_id,
                    kind=event.kind,
                    source=event.source,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    payload=dict(event.payload),
                )
                for event in events
            ]
        )
        try:
            await self._client.publish(
                self._channel_name(conversation_id), _encoder.encode(message)
            )
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc

    def subscribe(
        self, conversation_id: ConversationId, *, buffer: int
    ) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(conversation_id, buffer)

    @asynccontextmanager
    async def _subscribe(
        self, conversation_id: ConversationId, buffer: int
    ) -> AsyncIterator[Subscription]:
        name = self._channel_name(conversation_id)
        subscriber = _Subscriber(buffer)
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = _Channel(conversation_id)
            channel.subscribers.add(subscriber)
            try:
                await self._subscribe_channel(name)
            except BaseException as exc:
                if self._channels.get(name) is channel:
                    del self._channels[name]
                # Those who joined meanwhile wait for nothing.
                channel.fail(
                    exc
                    if isinstance(exc, DependencyUnavailableError)
                    else DependencyUnavailableError("The subscription was abandoned.")
                )
                raise
        else:
            channel.subscribers.add(subscriber)
        try:
            try:
                async with asyncio.timeout(self._confirm_timeout_s):
                    await channel.confirmed.wait()
            except TimeoutError:
                raise DependencyUnavailableError("Redis did not confirm a subscription.") from None
            if channel.error is not None:
                raise channel.error
            yield subscriber
        finally:
            channel.subscribers.discard(subscriber)
            if not channel.subscribers and self._channels.get(name) is channel:
                del self._channels[name]
                await self._unsubscribe_channel(name)

    async def _subscribe_channel(self, name: bytes) -> None:
        """Subscribe this server's one pub/sub connection, opened (and read from then on) by
        its first subscription."""
        async with self._commands:
            pubsub = self._pubsub
            # Counted before it is sent: the reader may see the answer before this resumes.
            self._unconfirmed[name] = self._unconfirmed.get(name, 0) + 1
            try:
                if pubsub is not None:
                    await pubsub.subscribe(name)
                    return
                pubsub = self._pubsub = self._client.pubsub()
                try:
                    await pubsub.subscribe(name)
                except BaseException:
                    self._pubsub = None
                    await _close(pubsub)
                    raise
                self._reader = asyncio.create_task(self._read(pubsub), name="conversation-events")
            except BaseException as exc:
                if self._unconfirmed.get(name, 0) > 0:
                    self._unconfirmed[name] -= 1
                if isinstance(exc, RedisError | OSError):
                    raise DependencyUnavailableError("Redis cannot be reached.") from exc
                raise

    async def _unsubscribe_channel(self, name: bytes) -> None:
        async with self._commands:
            if self._pubsub is None:
                return
            try:
                await self._pubsub.unsubscribe(name)
            except (RedisError, OSError) as exc:  # the reader notices a broken connection
                _log.warning("unsubscribe from %r failed: %s", name, exc)

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._dispatch(message)
        except (RedisError, OSError) as exc:
            _log.warning("conversation events from Redis interrupted: %s", exc)
            if self._pubsub is pubsub:
                self._pubsub = None
                self._unconfirmed.clear()
                channels, self._channels = self._channels, {}
                for channel in channels.values():
                    channel.fail(DependencyUnavailableError("Redis cannot be reached."))
            await _close(pubsub)

    def _dispatch(self, message: dict[str, Any]) -> None:
        name = message["channel"]
        channel = self._channels.get(name)
        if message["type"] == "subscribe":
            unconfirmed = self._unconfirmed.get(name, 0)
            if unconfirmed > 1:  # an older SUBSCRIBE (of subscribers gone since) answered
                self._unconfirmed[name] = unconfirmed - 1
                return
            if unconfirmed == 1:  # the latest one: the channel is live from here on
                del self._unconfirmed[name]
                if channel is not None:
                    channel.confirmed.set()
                return
            if channel is None:
                return
            # Subscribed again after the connection was re-established: whatever was published
            # in between never reached these subscribers. Each leaves; the last unsubscribes.
            interrupted, channel.subscribers = channel.subscribers, set()
            for subscriber in interrupted:
                subscriber.fail(DependencyUnavailableError("The Redis connection was interrupted."))
            return
        if channel is None or message["type"] != "message":
            return
        try:
            events = [
                StoredEvent(
                    conversation_id=channel.conversation_id,
                    seq=event.seq,
                    event_id=event.event_id,
                    kind=event.kind,
                    source=event.source,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    payload=event.payload,
                )
                for event in _decoder.decode(message["data"]).events
            ]
        except (msgspec.DecodeError, InvalidValueError):
            _log.warning("unreadable message on %r dropped", message["channel"])
            return
        for subscriber in tuple(channel.subscribers):
            subscriber.offer(events)

    async def aclose(self) -> None:
        """Stop renewing, give up every lease held and close the pub/sub connection."""
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.wait([self._renewer])
        for lease in tuple(self._held.values()):
            await self.release(lease)
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait([self._reader])
        pubsub, self._pubsub = self._pubsub, None
        self._unconfirmed.clear()
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            channel.fail(DependencyUnavailableError("The server is shutting down."))
        if pubsub is not None:
            await _close(pubsub)
