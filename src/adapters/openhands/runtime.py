"""A client of the OpenHands agent-server over HTTP and its event websocket. It builds the JSON
itself and imports nothing of OpenHands, so the server keeps its own Python and dependencies."""

import asyncio
import json
import shlex
from collections.abc import AsyncGenerator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from adapters.openhands.events import is_snapshot, parse_status, to_runtime_event
from application.errors import DependencyUnavailableError, RuntimeAuthRefusedError
from application.ports.conversation_runtime import ConversationRuntime, RuntimeHost
from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import (
    ConfirmationMode,
    ConversationId,
    GitAccess,
    HostInfo,
    ImagePart,
    MessagePart,
    RuntimeEvent,
    RuntimeStatus,
    StartSpec,
    TextPart,
)
from domain.shared.errors import InvalidValueError

__all__ = ("ROUTES_USED", "AgentServerRuntime", "checkout_script", "start_request")

_POLICIES = {
    ConfirmationMode.NEVER: {"kind": "NeverConfirm"},
    ConfirmationMode.ALWAYS: {"kind": "AlwaysConfirm"},
    ConfirmationMode.RISKY: {"kind": "ConfirmRisky"},
}
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

_CLOSE_AUTH = 4001
_CLOSE_NOT_FOUND = 4004
_RECONNECTS = 5


def _content(parts: Sequence[MessagePart]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            content.append({"type": "image", "image_urls": [part.url]})
    return content


def git_secret(git: GitAccess) -> dict[str, Any]:
    """``<PROVIDER>_TOKEN`` for the agent: a secret the agent-server looks up at our token
    endpoint with the short-lived credential whenever the agent uses it."""
    return {
        f"{git.provider.upper()}_TOKEN": {
            "kind": "LookupSecret",
            "url": git.token_url,
            "headers": {"X-Access-Token": git.credential, "Accept": "text/plain"},
        }
    }


LLM_ATTEMPTS = 3
"""How many times the agent-server tries an LLM call that fails in a way worth retrying (no
connection, 429, 5xx) before the run fails; its own default, 5 attempts waiting 8 to 64 s
apart, kept a conversation ``running`` for two minutes when the LLM could not be reached."""

LLM_RETRY_WAIT_S = (1, 4)
"""The shortest and longest wait between two attempts (doubling from the shortest)."""


def start_request(spec: StartSpec) -> dict[str, Any]:
    """``StartConversationRequest`` of agent-server 1.58 for ``spec``; titles are ours."""
    llm: dict[str, Any] = {
        "usage_id": "agent",
        "model": spec.model,
        "num_retries": LLM_ATTEMPTS if spec.llm_retries is None else spec.llm_retries,
        "retry_multiplier": 1,
        "retry_min_wait": LLM_RETRY_WAIT_S[0],
        "retry_max_wait": LLM_RETRY_WAIT_S[1],
    }
    if spec.base_url is not None:
        llm["base_url"] = spec.base_url
    if spec.api_key is not None:
        llm["api_key"] = spec.api_key
    body: dict[str, Any] = {
        **spec.extras,
        "agent": {"kind": "Agent", "llm": llm, "tools": [{"name": name} for name in spec.tools]},
        "workspace": {"working_dir": spec.workspace_dir},
        "conversation_id": str(spec.conversation_id),
        "autotitle": False,
        "confirmation_policy": _POLICIES[spec.confirmation],
        "max_iterations": spec.max_iterations,
        "tags": dict(spec.tags),
    }
    secrets: dict[str, Any] = {
        name: {"kind": "StaticSecret", "value": value} for name, value in spec.secrets.items()
    }
    if spec.git is not None:
        secrets.update(git_secret(spec.git))
    if secrets:
        body["secrets"] = secrets
    return body


_CHECKOUT_TIMEOUT_S = 300


def checkout_script(spec: StartSpec) -> str:
    """The shell script that clones ``spec.checkout`` into the workspace on the runtime's
    machine. git gets the password from a throwaway credential helper that trades the
    short-lived credential at our token endpoint (``curl``); the clone's remote keeps no
    credential, and a workspace that already holds a clone is left as it is."""
    checkout = spec.checkout
    assert checkout is not None
    q = shlex.quote
    lines = [
        "set -eu",
        f"dir={q(spec.workspace_dir)}",
        'if [ -d "$dir/.git" ]; then exit 0; fi',
        'mkdir -p "$(dirname "$dir")"',
    ]
    clone = ["git", "-c", "credential.helper=", "-c", "core.askPass=true"]
    if spec.git is not None:
        fetch = (
            "token=$(curl -fsS --max-time 30 -H 'Accept: text/plain' "
            f"-H {q('X-Access-Token: ' + spec.git.credential)} {q(spec.git.token_url)}) || exit 1"
        )
        reply = "printf 'username=%s\\npassword=%s\\n'"
        helper = "\n".join(
            (
                "#!/bin/sh",
                'test "$1" = get || exit 0',
                fetch,
                'case "$token" in',
                f'  *:*) {reply} "${{token%%:*}}" "${{token#*:}}" ;;',
                f'  *) {reply} {q(checkout.username)} "$token" ;;',
                "esac",
            )
        )
        lines += [
            'helper="$(mktemp)"',
            "trap 'rm -f \"$helper\"' EXIT",
            f"printf '%s\\n' {q(helper)} > \"$helper\"",
            'chmod 700 "$helper"',
        ]
        clone += ["-c", 'credential.helper="$helper"']
    clone += ["clone", "--quiet"]
    if checkout.branch is not None:
        clone += ["--branch", q(checkout.branch)]
    clone += ["--", q(checkout.clone_url), '"$dir"']
    lines.append(" ".join(clone))
    if checkout.author_name:
        lines.append(f'git -C "$dir" config user.name {q(checkout.author_name)}')
    if checkout.author_email:
        lines.append(f'git -C "$dir" config user.email {q(checkout.author_email)}')
    return "\n".join(lines) + "\n"


class AgentServerRuntime(ConversationRuntime):
    """Conversations on the agent-server that ``host`` runs; one HTTP client per host address."""

    def __init__(self, host: RuntimeHost, *, timeout_s: float = 30.0) -> None:
        self._host = host
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._info: HostInfo | None = None
        self._tools: frozenset[str] | None = None
        self._lock = asyncio.Lock()

    async def _open(self) -> tuple[httpx.AsyncClient, HostInfo]:
        info = await self._host.ensure_running()
        async with self._lock:
            if self._client is None or info != self._info:
                if self._client is not None:
                    await self._client.aclose()
                self._client = httpx.AsyncClient(
                    base_url=info.base_url,
                    headers={"X-Session-API-Key": info.session_key},
                    timeout=httpx.Timeout(self._timeout_s, connect=5.0),
                )
                self._info = info
                self._tools = None
            return self._client, info

    async def _call(
        self,
        method: str,
        path: str,
        conversation_id: ConversationId | None = None,
        *,
        body: object = None,
        allow: tuple[int, ...] = (),
        timeout_s: float | None = None,
    ) -> httpx.Response:
        client, _ = await self._open()
        timeout = httpx.USE_CLIENT_DEFAULT if timeout_s is None else timeout_s
        try:
            response = await client.request(method, path, json=body, timeout=timeout)
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

    async def _registered_tools(self) -> frozenset[str]:
        if self._tools is None:
            response = await self._call("GET", "/api/tools/")
            self._tools = frozenset(str(name) for name in response.json())
        return self._tools

    async def check_available(self) -> None:
        await self._open()  # starts or adopts the agent-server, which starting needs anyway

    async def start(self, spec: StartSpec) -> RuntimeStatus:
        unknown = sorted(set(spec.tools) - await self._registered_tools())
        if unknown:
            raise InvalidValueError(
                f"The agent runtime has no tool named {', '.join(unknown)}.", field="tools"
            )
        if spec.checkout is not None:
            await self._check_out(spec)
        response = await self._call("POST", "/api/conversations", body=start_request(spec))
        return parse_status(response.json().get("execution_status"))

    async def _check_out(self, spec: StartSpec) -> None:
        command = {
            "command": checkout_script(spec),
            "cwd": "/",
            "timeout": _CHECKOUT_TIMEOUT_S,
        }
        response = await self._call(
            "POST",
            "/api/bash/execute_bash_command",
            body=command,
            timeout_s=_CHECKOUT_TIMEOUT_S + 30,
        )
        output = response.json()
        if output.get("exit_code") != 0:
            said = str(output.get("stderr") or output.get("stdout") or "").strip()
            last = said.splitlines()[-1][:300] if said else "no output"
            raise InvalidValueError(
                f"The repository could not be cloned: {last}", field="repository"
            )

    def _path(self, conversation_id: ConversationId, tail: str = "") -> str:
        return f"/api/conversations/{conversation_id}{tail}"

    async def send_message(
        self, conversation_id: ConversationId, parts: Sequence[MessagePart], *, run: bool = True
    ) -> None:
        if not parts:
            raise InvalidValueError("A message needs at least one part.", field="parts")
        body = {"role": "user", "content": _content(parts), "run": run}
        await self._call("POST", self._path(conversation_id, "/events"), conversation_id, body=body)

    async def pause(self, conversation_id: ConversationId) -> None:
        await self._call("POST", self._path(conversation_id, "/pause"), conversation_id)

    async def resume(self, conversation_id: ConversationId) -> None:
        await self._call("POST", self._path(conversation_id, "/run"), conversation_id, allow=(409,))

    async def renew_git_access(self, conversation_id: ConversationId, git: GitAccess) -> None:
        await self._call(
            "POST",
            self._path(conversation_id, "/secrets"),
            conversation_id,
            body={"secrets": git_secret(git)},
        )

    async def stop(self, conversation_id: ConversationId) -> None:
        await self._call("POST", self._path(conversation_id, "/interrupt"), conversation_id)

    async def get_status(self, conversation_id: ConversationId) -> RuntimeStatus:
        response = await self._call("GET", self._path(conversation_id), conversation_id)
        return parse_status(response.json().get("execution_status"))

    async def respond_to_confirmation(
        self, conversation_id: ConversationId, *, accept: bool, reason: str = ""
    ) -> None:
        await self._call(
            "POST",
            self._path(conversation_id, "/events/respond_to_confirmation"),
            conversation_id,
            body={"accept": accept, "reason": reason},
        )

    async def delete(self, conversation_id: ConversationId) -> None:
        await self._call("DELETE", self._path(conversation_id), conversation_id)

    async def aclose(self) -> None:
        async with self._lock:
            if self._client is not None:
                await self._client.aclose()
            self._client = None
            self._info = None

    async def _cursor_stamp(self, conversation_id: ConversationId, after: str) -> str:
        response = await self._call(
            "GET", self._path(conversation_id, f"/events/{quote(after, safe='')}"), allow=(404,)
        )
        if response.status_code == 404:
            await self.get_status(conversation_id)  # an unknown conversation says so here
            raise InvalidValueError(f"No event {after!r} in this conversation.", field="after")
        stamp = response.json().get("timestamp")
        if not isinstance(stamp, str):
            raise DependencyUnavailableError("The agent runtime sent an event without a time.")
        return stamp

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
            path = self._path(conversation_id, f"/events/search?{urlencode(params)}")
            page = (await self._call("GET", path, conversation_id)).json()
            for raw in page.get("items") or ():
                if isinstance(raw, dict) and "id" in raw:
                    yield raw
            page_id = page.get("next_page_id")
            if not page_id:
                return

    async def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        # The server's own websocket replay interleaves with live events while a run is going,
        # so: subscribe without replay, page through the log, then read what the socket
        # buffered meanwhile, each id once.
        seen: set[str] = set()
        since = await self._cursor_stamp(conversation_id, after) if after is not None else None
        skip_through = after
        failures = 0
        while True:
            _, info = await self._open()
            try:
                async with self._subscribe(info, conversation_id) as socket:
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
                    self._raise_for_close(exc, conversation_id)
                failures += 1
                if failures > _RECONNECTS:
                    raise DependencyUnavailableError(
                        "Lost the agent runtime's event stream and could not reconnect."
                    ) from exc
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))

    def _raise_for_close(self, exc: ConnectionClosed, conversation_id: ConversationId) -> None:
        code = exc.rcvd.code if exc.rcvd is not None else None
        if code == _CLOSE_AUTH:
            raise RuntimeAuthRefusedError from exc
        if code == _CLOSE_NOT_FOUND:
            raise RuntimeConversationNotFoundError(conversation_id) from exc

    def _subscribe(self, info: HostInfo, conversation_id: ConversationId) -> "_Subscription":
        base = info.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return _Subscription(f"{base}/sockets/events/{conversation_id}", info.session_key)


class _Subscription:
    """One websocket on a conversation's events, authenticated by its first frame."""

    def __init__(self, url: str, key: str) -> None:
        self._url = url
        self._key = key
        self._socket: ClientConnection | None = None

    async def __aenter__(self) -> ClientConnection:
        socket = await connect(self._url, open_timeout=10, max_size=16 * 2**20)
        await socket.send(json.dumps({"type": "auth", "session_api_key": self._key}))
        self._socket = socket
        return socket

    async def __aexit__(self, *exc_info: object) -> None:
        if self._socket is not None:
            await self._socket.close()
