"""``/ws/conversations/{id}?after=N``: the conversation's stored events after N, then live ones,
each once and in order; heartbeats while quiet; messages from the client go to the agent."""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from dishka import AsyncContainer
from litestar import WebSocket, websocket
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from application.conversations import ConversationFeed, ConversationIngest, GetConversation
from application.conversations.control_conversation import SendMessage
from application.errors import ApplicationError, DependencyUnavailableError, MissingScopeError
from application.organizations.resolve_active_org import (
    ResolveActiveOrg,
    ResolveActiveOrgRequest,
)
from application.ports.authenticator import Principal
from application.ports.conversation_coordinator import SubscriberTooSlowError
from domain.conversations.value_objects import ConversationId
from domain.identity.scopes import Scope
from domain.ports.org_repository import MemberOrganization
from domain.shared.errors import DomainError
from entrypoints.http.auth import current_principal, parse_org_header, require_principal, requires
from entrypoints.http.conversations.schemas import (
    AcceptedFrame,
    ClientFrame,
    ErrorFrame,
    EventFrame,
    EventOut,
    HeartbeatFrame,
)
from entrypoints.http.errors import status_for

__all__ = ("CLOSE_SLOW_CLIENT", "CLOSE_TRY_AGAIN", "SocketPolicy", "conversation_socket")

CLOSE_SLOW_CLIENT = 4008
CLOSE_TRY_AGAIN = 1013
"""The live feed was interrupted (a store or Redis went away): reconnect with ``after`` set to
the last seq received, shortly; nothing stored is lost."""
"""The client fell too far behind; reconnect with ``after`` set to the last seq it got."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketPolicy:
    heartbeat_s: float = 15.0
    buffer: int = 1000
    """Events a client may fall behind before it is disconnected."""
    send_timeout_s: float = 10.0
    """How long one frame may take to go out before the client counts as too slow."""
    allowed_origins: frozenset[str] = frozenset()
    """Browser origins that may open a socket (the server's own and the CORS ones; ``*``:
    any); a handshake naming another ``Origin`` is refused, so no other site can ride a
    signed-in person's cookie. Clients that send no ``Origin`` are not browsers."""


def _refusal(error: DomainError | ApplicationError) -> WebSocketException:
    """A socket refused before it opens closes with 4000 + the HTTP status the error has."""
    return WebSocketException(detail=error.message[:120], code=4000 + status_for(error))


async def guard_socket(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The HTTP auth guard, in a request scope of its own (a socket's container lives as long
    as the connection)."""
    session: AsyncContainer = connection.state.dishka_container
    policy = await session.get(SocketPolicy)
    origin = connection.headers.get("origin")
    allowed = policy.allowed_origins
    if origin is not None and "*" not in allowed and origin.rstrip("/") not in allowed:
        raise WebSocketException(detail="This origin may not open a socket.", code=4403)
    async with session() as request_container:
        connection.state.dishka_container = request_container
        try:
            await require_principal(connection, handler)
        except (DomainError, ApplicationError) as exc:
            raise _refusal(exc) from None
        finally:
            connection.state.dishka_container = session


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ClientFrame)


@websocket(
    "/ws/conversations/{conversation_id:uuid}",
    guards=[guard_socket],
    opt=requires(Scope.CONVERSATIONS_READ),
)
async def conversation_socket(
    socket: WebSocket[Any, Any, Any], conversation_id: FromPath[UUID]
) -> None:
    cid = ConversationId(conversation_id)
    raw_after = socket.query_params.get("after", "0")
    if not raw_after.isdigit():
        raise WebSocketException(detail="after is a sequence number, 0 or more.", code=4422)
    after = int(raw_after)
    container: AsyncContainer = socket.state.dishka_container
    actor = current_principal(socket)
    async with container() as request_container:
        try:
            org = await (await request_container.get(ResolveActiveOrg)).execute(
                ResolveActiveOrgRequest(actor=actor, requested=parse_org_header(socket))
            )
            await (await request_container.get(GetConversation)).execute(actor, org, cid)
        except (DomainError, ApplicationError) as exc:
            raise _refusal(exc) from None
    feed = await container.get(ConversationFeed)
    policy = await container.get(SocketPolicy)
    (await container.get(ConversationIngest)).follow(cid)
    await socket.accept()
    session = _Session(socket, container, actor, org, cid, policy)
    await session.run(feed, after)


class _Session:
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        container: AsyncContainer,
        actor: Principal,
        org: MemberOrganization,
        conversation_id: ConversationId,
        policy: SocketPolicy,
    ) -> None:
        self._socket = socket
        self._container = container
        self._actor = actor
        self._org = org
        self._cid = conversation_id
        self._policy = policy
        self._sending = asyncio.Lock()

    async def _send(self, frame: msgspec.Struct) -> None:
        async with self._sending:
            await asyncio.wait_for(
                self._socket.send_text(_encoder.encode(frame).decode()),
                self._policy.send_timeout_s,
            )

    async def run(self, feed: ConversationFeed, after: int) -> None:
        tasks = [
            asyncio.create_task(self._stream(feed, after)),
            asyncio.create_task(self._heartbeat()),
            asyncio.create_task(self._receive()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        reason = next(
            (task.result() for task in done if not task.cancelled() and not task.exception()),
            None,
        )
        if reason is not None:
            with contextlib.suppress(Exception):
                await self._socket.close(code=reason[0], reason=reason[1])

    async def _stream(self, feed: ConversationFeed, after: int) -> tuple[int, str] | None:
        try:
            async for event in feed.events(self._cid, after=after, buffer=self._policy.buffer):
                await self._send(EventFrame(event=EventOut.from_entity(event)))
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
        try:
            while True:
                await asyncio.sleep(self._policy.heartbeat_s)
                await self._send(HeartbeatFrame(at=datetime.now(UTC)))
        except TimeoutError:
            return CLOSE_SLOW_CLIENT, "client too slow: a heartbeat could not be sent"
        except (WebSocketDisconnect, OSError):
            return None

    async def _receive(self) -> tuple[int, str] | None:
        actor = self._actor
        while True:
            try:
                raw = await self._socket.receive_data(mode="text")
            except WebSocketDisconnect:
                return None
            try:
                frame = _decoder.decode(raw)
                if Scope.CONVERSATIONS_WRITE not in actor.scopes:
                    raise MissingScopeError("Sending messages needs the scope conversations:write.")
                async with self._container() as request_container:
                    send = await request_container.get(SendMessage)
                    await send.execute(actor, self._org, self._cid, frame.text, frame.images)
            except msgspec.ValidationError as exc:
                await self._send(ErrorFrame(code="invalid-frame", detail=str(exc)[:300]))
            except msgspec.DecodeError:
                await self._send(ErrorFrame(code="invalid-frame", detail="Send JSON frames."))
            except (DomainError, ApplicationError) as exc:
                await self._send(ErrorFrame(code=exc.code, detail=exc.message))
            else:
                await self._send(AcceptedFrame())
