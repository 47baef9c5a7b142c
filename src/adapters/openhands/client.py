"""The agent-server's HTTP API, reached through the host that runs it: one HTTP client per host
address, our errors for its refusals, typed answers."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
import msgspec

from application.errors import DependencyUnavailableError, RuntimeAuthRefusedError
from application.ports.conversation_runtime import RuntimeHost
from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import ConversationId, HostInfo

__all__ = ("ROUTES_USED", "AgentServerClient", "conversation_path", "decode")

T = TypeVar("T")

ROUTES_USED = frozenset(
    {
        ("GET", "/api/tools/"),
        ("GET", "/api/conversations/count"),
        ("POST", "/api/conversations"),
        ("GET", "/api/conversations/{conversation_id}"),
        ("DELETE", "/api/conversations/{conversation_id}"),
        ("POST", "/api/conversations/{conversation_id}/pause"),
        ("POST", "/api/conversations/{conversation_id}/run"),
        ("POST", "/api/conversations/{conversation_id}/interrupt"),
        ("POST", "/api/conversations/{conversation_id}/events"),
        ("GET", "/api/conversations/{conversation_id}/events/search"),
        ("GET", "/api/conversations/{conversation_id}/events/{event_id}"),
        ("POST", "/api/conversations/{conversation_id}/events/respond_to_confirmation"),
        ("POST", "/api/bash/execute_bash_command"),
        ("POST", "/api/conversations/{conversation_id}/secrets"),
    }
)
"""The agent-server's HTTP routes this package calls (plus the socket at
``/sockets/events/{conversation_id}``); the contract suite checks them against its OpenAPI."""


def conversation_path(conversation_id: ConversationId, tail: str = "") -> str:
    return f"/api/conversations/{conversation_id}{tail}"


class AgentServerClient:
    """Calls the agent-server that ``host`` runs, starting or adopting it first."""

    def __init__(
        self,
        host: RuntimeHost,
        *,
        timeout_s: float = 30.0,
        on_new_address: Callable[[HostInfo], Awaitable[None]] | None = None,
    ) -> None:
        self._host = host
        self._timeout_s = timeout_s
        self._on_new_address = on_new_address
        self._client: httpx.AsyncClient | None = None
        self._info: HostInfo | None = None
        self._lock = asyncio.Lock()

    @property
    def host(self) -> RuntimeHost:
        return self._host

    async def open(self) -> HostInfo:
        """Where the agent-server answers now; a new address or key gets a new HTTP client."""
        _, info = await self._connected()
        return info

    async def _connected(self) -> tuple[httpx.AsyncClient, HostInfo]:
        """The HTTP client for where the agent-server answers now; ``on_new_address`` hears
        of each new address or key (the host started it again) before the call goes on."""
        info = await self._host.ensure_running()
        async with self._lock:
            moved = self._client is None or info != self._info
            if moved:
                if self._client is not None:
                    await self._client.aclose()
                self._client = httpx.AsyncClient(
                    base_url=info.base_url,
                    headers={"X-Session-API-Key": info.session_key},
                    timeout=httpx.Timeout(self._timeout_s, connect=5.0),
                )
                self._info = info
            client = self._client
            assert client is not None
        if moved and self._on_new_address is not None:
            await self._on_new_address(info)
        return client, info

    async def call(
        self,
        method: str,
        path: str,
        conversation_id: ConversationId | None = None,
        *,
        body: object = None,
        allow: tuple[int, ...] = (),
        timeout_s: float | None = None,
    ) -> httpx.Response:
        """The answer to one request with ``body`` (a payload struct or JSON-able value) as
        JSON; a 404 naming ``conversation_id`` is that conversation not found, and statuses in
        ``allow`` are answers too."""
        client, _ = await self._connected()
        timeout = httpx.USE_CLIENT_DEFAULT if timeout_s is None else timeout_s
        headers = {} if body is None else {"Content-Type": "application/json"}
        content = None if body is None else msgspec.json.encode(body)
        try:
            response = await client.request(
                method, path, content=content, headers=headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError(
                f"The agent runtime did not answer ({type(exc).__name__})."
            ) from exc
        if response.status_code in allow or response.is_success:
            return response
        if response.status_code == 401:
            raise RuntimeAuthRefusedError
        if response.status_code == 404 and conversation_id is not None:
            raise RuntimeConversationNotFoundError(conversation_id)
        raise DependencyUnavailableError(
            f"The agent runtime answered {method} {path.split('/')[2]} with {response.status_code}."
        )

    async def read(
        self,
        kind: type[T],
        method: str,
        path: str,
        conversation_id: ConversationId | None = None,
        *,
        body: object = None,
        timeout_s: float | None = None,
    ) -> T:
        """``call``, its answer read as ``kind``."""
        response = await self.call(method, path, conversation_id, body=body, timeout_s=timeout_s)
        return decode(response, kind)

    async def aclose(self) -> None:
        async with self._lock:
            if self._client is not None:
                await self._client.aclose()
            self._client = None
            self._info = None


def decode(response: httpx.Response, kind: type[T]) -> T:
    """The answer's JSON as ``kind``; an answer we cannot read leaves the runtime unavailable."""
    try:
        return msgspec.json.decode(response.content, type=kind)
    except msgspec.DecodeError as exc:
        raise DependencyUnavailableError(
            "The agent runtime sent an answer we cannot read."
        ) from exc
