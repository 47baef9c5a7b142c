import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from adapters.memory.access_revocations import RevocationBuffer
from application.errors import DependencyUnavailableError
from application.ports.access_revocations import (
    AccessRevocations,
    ApiKeyRevoked,
    MembershipChanged,
    Revocation,
    RevocationsMissed,
    RevocationSubscription,
    SessionRevoked,
    UserChanged,
)
from application.tasks import cancel_and_wait
from domain.identity.api_keys import ApiKeyId
from domain.identity.entities import UserId
from domain.identity.sessions import SessionId
from domain.organizations.entities import OrgId

__all__ = ("RedisAccessRevocations", "default_channel")

_log = logging.getLogger(__name__)


class _ApiKey(msgspec.Struct, frozen=True, tag="api_key"):
    id: UUID


class _Session(msgspec.Struct, frozen=True, tag="session"):
    id: UUID


class _Membership(msgspec.Struct, frozen=True, tag="membership"):
    user_id: UUID
    org_id: UUID


class _User(msgspec.Struct, frozen=True, tag="user"):
    id: UUID


class _Announced(msgspec.Struct, frozen=True):
    """What goes over the revocations channel."""

    revocations: list[_ApiKey | _Session | _Membership | _User]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Announced)


_Wire = _ApiKey | _Session | _Membership | _User


def _to_wire(revocation: Revocation) -> _Wire | None:
    match revocation:
        case ApiKeyRevoked(key_id):
            return _ApiKey(id=key_id)
        case SessionRevoked(session_id):
            return _Session(id=session_id)
        case MembershipChanged(user_id, org_id):
            return _Membership(user_id=user_id, org_id=org_id)
        case UserChanged(user_id):
            return _User(id=user_id)
        case RevocationsMissed():
            return None


def _from_wire(announced: _Wire) -> Revocation:
    match announced:
        case _ApiKey(id=key_id):
            return ApiKeyRevoked(ApiKeyId(key_id))
        case _Session(id=session_id):
            return SessionRevoked(SessionId(session_id))
        case _Membership(user_id=user_id, org_id=org_id):
            return MembershipChanged(UserId(user_id), OrgId(org_id))
        case _User(id=user_id):
            return UserChanged(UserId(user_id))


async def _close(pubsub: PubSub) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


def default_channel(client: Redis) -> str:
    """The channel of the deployment whose keys live in the client's database. Pub/sub ignores
    database numbers, so deployments (or test runs) sharing one Redis would otherwise hear
    each other's revocations and drop their caches for nothing."""
    database = client.connection_pool.connection_kwargs.get("db", 0)
    return f"maestrist:db{database}:access:revoked"


class RedisAccessRevocations(AccessRevocations):
    """Revocations over one Redis channel every server listens to.

    Each server keeps one pub/sub connection subscribed to the channel, opened by its first
    subscriber and kept until the server stops, and copies each announcement into every local
    subscriber's buffer. When that connection breaks (announcements may have been lost), every
    subscriber gets ``RevocationsMissed`` and the connection is opened again. ``subscribe``
    returns once the channel is live, so nothing announced afterwards is missed unnoticed.
    """

    def __init__(
        self,
        client: Redis,
        *,
        channel: str | None = None,
        confirm_timeout: timedelta = timedelta(seconds=5),
        retry_every: timedelta = timedelta(seconds=1),
    ) -> None:
        self._client = client
        self._channel = (channel or default_channel(client)).encode()
        self._confirm_timeout_s = confirm_timeout.total_seconds()
        self._retry_s = retry_every.total_seconds()
        self._subscribers: set[RevocationBuffer] = set()
        self._live = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, revocations: Sequence[Revocation]) -> None:
        wire = [found for found in map(_to_wire, revocations) if found is not None]
        if not wire:
            return
        try:
            await self._client.publish(self._channel, _encoder.encode(_Announced(wire)))
        except (RedisError, OSError) as exc:
            _log.warning("revocations not announced (sockets re-check on their own): %s", exc)

    def subscribe(self) -> AbstractAsyncContextManager[RevocationSubscription]:
        return self._subscribe()

    def listening(self) -> bool:
        return self._live.is_set() and self._reader is not None and not self._reader.done()

    @asynccontextmanager
    async def _subscribe(self) -> AsyncIterator[RevocationSubscription]:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="access-revocations")
        subscriber = RevocationBuffer()
        self._subscribers.add(subscriber)
        try:
            try:
                async with asyncio.timeout(self._confirm_timeout_s):
                    await self._live.wait()
            except TimeoutError:
                raise DependencyUnavailableError("Redis did not confirm a subscription.") from None
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    def _missed(self) -> None:
        for subscriber in tuple(self._subscribers):
            subscriber.offer([RevocationsMissed()])

    async def _read(self) -> None:
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._dispatch(message)
            except (RedisError, OSError) as exc:
                if self._live.is_set():
                    _log.warning("access revocations from Redis interrupted: %s", exc)
                    self._live.clear()
                    self._missed()
            finally:
                await _close(pubsub)
            await asyncio.sleep(self._retry_s)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "subscribe":
            if self._live.is_set():  # subscribed again after a reconnection: some may be lost
                self._missed()
            self._live.set()
            return
        if message["type"] != "message":
            return
        try:
            announced = _decoder.decode(message["data"]).revocations
        except msgspec.DecodeError:
            _log.warning("unreadable revocation announcement dropped")
            self._missed()
            return
        revocations = [_from_wire(found) for found in announced]
        for subscriber in tuple(self._subscribers):
            subscriber.offer(revocations)

    async def aclose(self) -> None:
        """Close the pub/sub connection."""
        if self._reader is not None:
            await cancel_and_wait(self._reader)
            self._reader = None
        self._live.clear()
