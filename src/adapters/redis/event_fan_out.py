import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from adapters.memory.bounded_subscriber import BoundedSubscriber
from application.errors import DependencyUnavailableError
from application.ports.event_fan_out import EventFanOut, Subscription
from application.tasks import cancel_and_wait
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.shared.errors import InvalidValueError

__all__ = ("RedisEventFanOut",)

_log = logging.getLogger(__name__)


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


class _Channel:
    """This server's subscribers of one conversation's channel."""

    def __init__(self, conversation_id: ConversationId) -> None:
        self.conversation_id = conversation_id
        self.subscribers: set[BoundedSubscriber] = set()
        self.confirmed = asyncio.Event()
        self.error: Exception | None = None

    def fail(self, error: Exception) -> None:
        self.error = error
        self.confirmed.set()
        for subscriber in self.subscribers:
            subscriber.fail(error)


class RedisEventFanOut(EventFanOut):
    """Live fan-out of stored events to the subscribers of every server on one Redis.

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
        confirm_timeout: timedelta = timedelta(seconds=5),
        prefix: str = "maestrist:conversation:",
    ) -> None:
        self._client = client
        self._confirm_timeout_s = confirm_timeout.total_seconds()
        self._prefix = prefix
        self._channels: dict[bytes, _Channel] = {}
        self._unconfirmed: dict[bytes, int] = {}
        """SUBSCRIBEs sent per channel that Redis has not answered yet."""
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._commands = asyncio.Lock()

    def _channel_name(self, conversation_id: ConversationId) -> bytes:
        return f"{self._prefix}{{{conversation_id}}}:events".encode()

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
        subscriber = BoundedSubscriber(buffer)
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
                pending = self._unconfirmed.pop(name, 0) - 1
                if pending > 0:  # others' SUBSCRIBEs of this channel still wait for answers
                    self._unconfirmed[name] = pending
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
        """Close the pub/sub connection, ending every subscriber still reading."""
        if self._reader is not None:
            await cancel_and_wait(self._reader)
        pubsub, self._pubsub = self._pubsub, None
        self._unconfirmed.clear()
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            channel.fail(DependencyUnavailableError("The server is shutting down."))
        if pubsub is not None:
            await _close(pubsub)
