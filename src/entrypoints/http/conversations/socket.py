"""``/ws/conversations/{id}?after=N``: the conversation's stored events after N, then live ones,
each once and in order; heartbeats while quiet; messages from the client go to the agent.
``OpenConversationStream`` decides who may watch and send; this maps frames to its calls and
its errors to frames and close codes."""

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from dishka import FromDishka
from dishka.integrations.litestar import inject_websocket
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from application.conversations import (
    ConversationStream,
    OpenConversationStream,
    OpenConversationStreamRequest,
    StreamAccessLostError,
)
from application.errors import ApplicationError, DependencyUnavailableError
from application.ports.access_revocations import RevocationsMissed
from application.ports.event_fan_out import SubscriberTooSlowError
from application.ports.metrics import Metrics
from application.rate_limits import CostlyAction
from application.tasks import cancel_and_wait
from domain.conversations.entities import MAX_SEQ, StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Credentials
from domain.shared.errors import DomainError, InvalidValueError
from entrypoints.http.auth import parse_org_header
from entrypoints.http.conversations.schemas import (
    AcceptedFrame,
    ClientFrame,
    ErrorFrame,
    EventFrame,
    EventOut,
    HeartbeatFrame,
)
from entrypoints.http.errors import status_for
from entrypoints.http.rate_limits import HttpRateLimits
from entrypoints.http.stop_signals import hold_stop_signals

_JITTER = random.Random()  # noqa: S311  # spreads heartbeats, not secret; its own state

__all__ = (
    "CLOSE_GOING_AWAY",
    "CLOSE_SLOW_CLIENT",
    "CLOSE_TRY_AGAIN",
    "EventFrames",
    "OpenSockets",
    "SocketPolicy",
    "conversation_socket",
)

CLOSE_SLOW_CLIENT = 4008
"""The client fell too far behind; reconnect with ``after`` set to the last seq it got."""
CLOSE_TRY_AGAIN = 1013
"""The live feed was interrupted (a store or Redis went away): reconnect with ``after`` set to
the last seq received, shortly; nothing stored is lost."""
CLOSE_GOING_AWAY = 1001
"""The server is stopping: reconnect (to another server) with ``after`` set to the last seq
received."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketPolicy:
    heartbeat_s: float = 15.0
    buffer: int = 1000
    """Events a client may fall behind before it is disconnected."""
    send_timeout_s: float = 10.0
    """How long one frame may take to go out before the client counts as too slow."""
    recheck_misses: int = 3
    """Routine re-checks of the credential (at heartbeats, or after revocation announcements
    were missed) in a row that may find a store unavailable before the socket closes with 1013:
    a busy database does not end a healthy socket; it keeps what it last proved meanwhile."""
    allowed_origins: frozenset[str] = frozenset()
    """Browser origins that may open a socket (the server's own and the CORS ones; ``*``:
    any); a handshake naming another ``Origin`` is refused, so no other site can ride a
    signed-in person's cookie. Clients that send no ``Origin`` are not browsers."""


class EventFrames:
    """Event frames as sent, encoded once per event on this server however many sockets
    send them (hundreds of sockets on one conversation send the same frame); the most recent
    ``keep`` stay cached. A stored event never changes, so its frame never does either."""

    def __init__(self, keep: int = 4096) -> None:
        self._keep = keep
        self._frames: OrderedDict[tuple[UUID, int], str] = OrderedDict()
        self.encoded = 0
        """Frames encoded so far (the others came from the cache)."""

    def frame(self, event: StoredEvent) -> str:
        key = (event.conversation_id, event.seq)
        found = self._frames.get(key)
        if found is not None:
            return found
        self.encoded += 1
        text = _encoder.encode(EventFrame(event=EventOut.from_entity(event))).decode()
        self._frames[key] = text
        if len(self._frames) > self._keep:
            self._frames.popitem(last=False)
        return text


class OpenSockets:
    """This server's open sockets, so that a server stopping closes each with 1001 and a
    reason before its connections go (a client then knows to reconnect, not that it failed).
    They share the cache of encoded event frames, and take turns to re-check credentials
    (``rechecks`` at a time), so hundreds of sockets re-checking at once queue here rather
    than take every database connection the server's requests need.

    With ``hold_stop_signals`` (the production server, which drops open connections the
    moment it is told to stop), SIGTERM and SIGINT wait for that, ``close_timeout_s`` at most.
    """

    def __init__(
        self,
        *,
        metrics: Metrics,
        hold_stop_signals: bool = False,
        close_timeout_s: float = 5.0,
        rechecks: int = 4,
    ) -> None:
        self._metrics = metrics
        self.frames = EventFrames()
        self.rechecking = asyncio.Semaphore(rechecks)
        self._stopping = asyncio.Event()
        self._open = 0
        self._none_open = asyncio.Event()
        self._none_open.set()
        self._hold_signals = hold_stop_signals
        self._close_timeout_s = close_timeout_s

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[asyncio.Event]:
        """While the socket runs; yields the event set when the server stops."""
        if self._hold_signals:  # armed once the server serves, in the loop that serves
            self._hold_signals = False
            hold_stop_signals(self.close_all)
        self._open += 1
        self._none_open.clear()
        self._metrics.websocket_opened()
        try:
            yield self._stopping
        finally:
            self._metrics.websocket_closed()
            self._open -= 1
            if not self._open:
                self._none_open.set()

    async def close_all(self) -> None:
        """Have every socket close with 1001; wait at most ``close_timeout_s`` for them to."""
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._close_timeout_s):
                await self._none_open.wait()


def _closing(error: DomainError | ApplicationError) -> tuple[int, str]:
    """A refused or revoked socket closes with 4000 + the HTTP status the error has (1013
    when a store did not answer: try again shortly)."""
    if isinstance(error, DependencyUnavailableError):
        return CLOSE_TRY_AGAIN, "a service the server depends on is unavailable; try again"
    return 4000 + status_for(error), error.message.encode()[:120].decode(errors="ignore")


def _parse_after(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16 and int(raw) <= MAX_SEQ):
        raise InvalidValueError(f"after is a sequence number, 0 to {MAX_SEQ}.", field="after")
    return int(raw)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ClientFrame)


@websocket("/ws/conversations/{conversation_id:uuid}")
@inject_websocket
async def conversation_socket(
    socket: WebSocket[Any, Any, Any],
    conversation_id: FromPath[UUID],
    policy: FromDishka[SocketPolicy],
    sockets: FromDishka[OpenSockets],
    open_stream: FromDishka[OpenConversationStream],
    limits: FromDishka[HttpRateLimits],
) -> None:
    # Accepted first, so that a refusal reaches every client as a close frame with its code
    # (a server answers a handshake refused before it is accepted with a bare HTTP 403).
    await socket.accept()
    origin = socket.headers.get("origin")
    allowed = policy.allowed_origins
    if origin is not None and "*" not in allowed and origin.rstrip("/") not in allowed:
        await socket.close(code=4403, reason="This origin may not open a socket.")
        return
    try:
        await limits.socket_connect(socket)
        async with sockets.track() as stopping:
            opened = await open_stream.execute(
                OpenConversationStreamRequest(
                    credentials=Credentials(
                        authorization=socket.headers.get("authorization"),
                        cookies=socket.cookies,
                    ),
                    requested_org=parse_org_header(socket),
                    conversation_id=ConversationId(conversation_id),
                )
            )
            async with contextlib.aclosing(opened.stream) as stream:
                after = _parse_after(socket.query_params.get("after", "0"))
                await _Session(
                    socket, stream, policy, sockets.frames, sockets.rechecking, limits=limits
                ).run(after, stopping)
    except (DomainError, ApplicationError) as exc:
        code, reason = _closing(exc)
        with contextlib.suppress(Exception):
            await socket.close(code=code, reason=reason)


class _Session:
    """One open socket: its feed, heartbeats and client frames, while its stream's credential
    still reaches the conversation. The stream checks that again before each client message,
    at each heartbeat here, and whenever a revocation that concerns it is announced; the
    socket closes with the code of what failed. A routine re-check (a heartbeat, missed
    announcements) that finds a store unavailable is tried again at the next heartbeat; only
    ``recheck_misses`` of them in a row, or a revocation of this very credential that cannot
    be checked, close it with 1013."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        stream: ConversationStream,
        policy: SocketPolicy,
        frames: EventFrames | None = None,
        rechecking: asyncio.Semaphore | None = None,
        *,
        limits: HttpRateLimits | None = None,
    ) -> None:
        self._socket = socket
        self._limits = limits
        self._stream = stream
        self._policy = policy
        self._frames = frames or EventFrames()
        self._rechecking = rechecking or asyncio.Semaphore(1)
        self._sending = asyncio.Lock()
        self._misses = 0

    async def _recheck(
        self, *, routine: bool, reuse_recent: bool = False
    ) -> tuple[int, str] | None:
        try:
            async with self._rechecking:
                await self._stream.recheck(routine=reuse_recent)
        except StreamAccessLostError as lost:
            if isinstance(lost.cause, DependencyUnavailableError) and routine:
                self._misses += 1
                if self._misses < self._policy.recheck_misses:
                    return None
            return _closing(lost.cause)
        self._misses = 0
        return None

    async def _send_text(self, text: str) -> None:
        # A timeout scope, not ``wait_for``: no task of its own for every frame of every socket.
        async with self._sending, asyncio.timeout(self._policy.send_timeout_s):
            await self._socket.send_text(text)

    async def _send(self, frame: msgspec.Struct) -> None:
        await self._send_text(_encoder.encode(frame).decode())

    async def run(self, after: int, stopping: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(self._stream_events(after)),
            asyncio.create_task(self._heartbeat()),
            asyncio.create_task(self._receive()),
            asyncio.create_task(self._watch()),
            asyncio.create_task(self._until_stopping(stopping)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            reason = next(
                (task.result() for task in done if not task.cancelled() and not task.exception()),
                None,
            )
            # Closed before the others are awaited: a receive in flight ends with the close.
            if reason is not None:
                with contextlib.suppress(Exception):
                    await self._socket.close(code=reason[0], reason=reason[1])
        finally:
            await cancel_and_wait(*tasks)

    async def _stream_events(self, after: int) -> tuple[int, str] | None:
        try:
            async for event in self._stream.events(after=after, buffer=self._policy.buffer):
                await self._send_text(self._frames.frame(event))
        except SubscriberTooSlowError:
            return CLOSE_SLOW_CLIENT, (
                f"client too slow: more than {self._policy.buffer} events waited; "
                "reconnect with after=<last seq received>"
            )
        except TimeoutError:
            return CLOSE_SLOW_CLIENT, (
                f"client too slow: a frame waited over {self._policy.send_timeout_s:g}s; "
                "reconnect with after=<last seq received>"
            )
        except DependencyUnavailableError:
            return CLOSE_TRY_AGAIN, (
                "the live feed was interrupted; reconnect with after=<last seq received>"
            )
        except (WebSocketDisconnect, OSError):
            return None
        return None

    async def _heartbeat(self) -> tuple[int, str] | None:
        # The first one comes after a random part of the period, so sockets opened together
        # (a page of watchers, a reconnecting crowd) do not all re-check at the same moment.
        wait = self._policy.heartbeat_s * _JITTER.uniform(0.5, 1.0)
        try:
            while True:
                await asyncio.sleep(wait)
                wait = self._policy.heartbeat_s
                # What the credential proved seconds ago may stand here (a revocation heard
                # drops it): one read per credential and server, not one per socket.
                if (lost := await self._recheck(routine=True, reuse_recent=True)) is not None:
                    return lost
                await self._send(HeartbeatFrame(at=datetime.now(UTC)))
        except TimeoutError:
            return CLOSE_SLOW_CLIENT, "client too slow: a heartbeat could not be sent"
        except (WebSocketDisconnect, OSError):
            return None

    @staticmethod
    async def _until_stopping(stopping: asyncio.Event) -> tuple[int, str]:
        await stopping.wait()
        return CLOSE_GOING_AWAY, "server shutting down; reconnect with after=<last seq received>"

    async def _watch(self) -> tuple[int, str] | None:
        async for revocation in self._stream.revocations():
            routine = isinstance(revocation, RevocationsMissed)
            if (lost := await self._recheck(routine=routine)) is not None:
                return lost
        return None

    async def _receive(self) -> tuple[int, str] | None:
        while True:
            try:
                raw = await self._socket.receive_data(mode="text")
            except WebSocketDisconnect:
                return None
            try:
                frame = _decoder.decode(raw)
            except msgspec.ValidationError as exc:
                await self._send(ErrorFrame(code="invalid-frame", detail=str(exc)[:300]))
                continue
            except msgspec.DecodeError:
                await self._send(ErrorFrame(code="invalid-frame", detail="Send JSON frames."))
                continue
            try:
                if self._limits is not None:
                    await self._limits.charge(self._stream.actor, CostlyAction.SEND_MESSAGE)
                await self._stream.send(frame.text, frame.images)
            except StreamAccessLostError as lost:
                return _closing(lost.cause)
            except (DomainError, ApplicationError) as exc:
                await self._send(ErrorFrame(code=exc.code, detail=exc.message))
                continue
            await self._send(AcceptedFrame())
