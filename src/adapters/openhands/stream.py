"""A conversation's events from the agent-server: its log paged over HTTP, then its event
websocket live, each id once, across reconnects and host restarts."""

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from adapters.openhands.client import AgentServerClient, conversation_path, decode
from adapters.openhands.events import is_snapshot, to_runtime_event
from adapters.openhands.payloads import ConversationInfo, EventPage, EventStamp
from application.errors import DependencyUnavailableError, RuntimeAuthRefusedError
from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import ConversationId, HostInfo, RuntimeEvent
from domain.shared.errors import InvalidValueError

__all__ = ("EventStream",)

_CLOSE_AUTH = 4001
_CLOSE_NOT_FOUND = 4004
_RECONNECTS = 5


class EventStream:
    """Reads conversations' events through ``client``."""

    def __init__(self, client: AgentServerClient) -> None:
        self._client = client

    async def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        """What ``ConversationRuntime.events`` promises, read from the agent-server."""
        # The server's own websocket replay interleaves with live events while a run is going,
        # so: subscribe without replay, page through the log, then read what the socket
        # buffered meanwhile, each id once.
        seen: set[str] = set()
        since = await self._cursor_stamp(conversation_id, after) if after is not None else None
        skip_through = after
        failures = 0
        while True:
            info = await self._client.open()
            try:
                async with _Subscription.to(info, conversation_id) as socket:
                    first = json.loads(await socket.recv())
                    failures = 0
                    live = [] if is_snapshot(first) else [first]
                    async for raw in self._logged(conversation_id, since):
                        if skip_through is not None:
                            if raw["id"] == skip_through:
                                skip_through = None
                            seen.add(raw["id"])
                            continue
                        if raw["id"] not in seen:
                            seen.add(raw["id"])
                            since = raw.get("timestamp", since)
                            yield to_runtime_event(conversation_id, raw)
                    skip_through = None
                    while True:
                        raw = live.pop(0) if live else json.loads(await socket.recv())
                        if not isinstance(raw, dict) or is_snapshot(raw) or "id" not in raw:
                            continue
                        if raw["id"] in seen:
                            continue
                        seen.add(raw["id"])
                        since = raw.get("timestamp", since)
                        yield to_runtime_event(conversation_id, raw)
            except (OSError, InvalidStatus, WebSocketException, TimeoutError) as exc:
                if isinstance(exc, ConnectionClosed):
                    _raise_for_close(exc, conversation_id)
                failures += 1
                if failures > _RECONNECTS:
                    raise DependencyUnavailableError(
                        "Lost the agent runtime's event stream and could not reconnect."
                    ) from exc
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))

    async def _cursor_stamp(self, conversation_id: ConversationId, after: str) -> str:
        path = conversation_path(conversation_id, f"/events/{quote(after, safe='')}")
        response = await self._client.call("GET", path, allow=(404,))
        if response.status_code == 404:
            # an unknown conversation says so here
            await self._client.read(
                ConversationInfo, "GET", conversation_path(conversation_id), conversation_id
            )
            raise InvalidValueError(f"No event {after!r} in this conversation.", field="after")
        try:
            return msgspec.json.decode(response.content, type=EventStamp).timestamp
        except msgspec.DecodeError as exc:
            raise DependencyUnavailableError(
                "The agent runtime sent an event without a time."
            ) from exc

    async def _logged(
        self, conversation_id: ConversationId, since: str | None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The conversation's logged events from ``since`` on (inclusive), oldest first."""
        page_id: str | None = None
        while True:
            params = {"limit": "100", "sort_order": "TIMESTAMP"}
            if since is not None:
                params["timestamp__gte"] = since
            if page_id is not None:
                params["page_id"] = page_id
            path = conversation_path(conversation_id, f"/events/search?{urlencode(params)}")
            page = decode(await self._client.call("GET", path, conversation_id), EventPage)
            for raw in page.items or ():
                if isinstance(raw, dict) and "id" in raw:
                    yield raw
            page_id = page.next_page_id
            if not page_id:
                return


def _raise_for_close(exc: ConnectionClosed, conversation_id: ConversationId) -> None:
    code = exc.rcvd.code if exc.rcvd is not None else None
    if code == _CLOSE_AUTH:
        raise RuntimeAuthRefusedError from exc
    if code == _CLOSE_NOT_FOUND:
        raise RuntimeConversationNotFoundError(conversation_id) from exc


class _Subscription:
    """One websocket on a conversation's events, authenticated by its first frame."""

    def __init__(self, url: str, key: str) -> None:
        self._url = url
        self._key = key
        self._socket: ClientConnection | None = None

    @classmethod
    def to(cls, info: HostInfo, conversation_id: ConversationId) -> "_Subscription":
        base = info.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return cls(f"{base}/sockets/events/{conversation_id}", info.session_key)

    async def __aenter__(self) -> ClientConnection:
        socket = await connect(self._url, open_timeout=10, max_size=16 * 2**20)
        await socket.send(json.dumps({"type": "auth", "session_api_key": self._key}))
        self._socket = socket
        return socket

    async def __aexit__(self, *exc_info: object) -> None:
        if self._socket is not None:
            await self._socket.close()
