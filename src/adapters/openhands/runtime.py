"""Conversations on the OpenHands agent-server, over its HTTP API and event websocket. It builds
the JSON itself and imports nothing of OpenHands, so the server keeps its own Python and
dependencies."""

import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from adapters.openhands.checkout import (
    CHECKOUT_TIMEOUT_S,
    SETUP_SCRIPT,
    SETUP_TIMEOUT_S,
    checkout_script,
    setup_check,
    setup_command,
)
from adapters.openhands.client import AgentServerClient, conversation_path
from adapters.openhands.events import message_text, parse_status, reply_text
from adapters.openhands.external_host import ExternalHost
from adapters.openhands.local_host import node_name
from adapters.openhands.payloads import (
    BashCommand,
    BashOutput,
    ConfirmationAnswer,
    ConversationInfo,
    SecretsUpdate,
    git_secret,
    start_request,
    user_message,
)
from adapters.openhands.sandboxes import SandboxHost, SandboxPool
from adapters.openhands.stream import EventStream
from application.errors import DependencyUnavailableError
from application.ports.conversation_runtime import (
    ConversationRuntime,
    RuntimeHost,
    StartProgress,
)
from application.ports.runtime_directory import RuntimeAddress
from application.ports.unit_of_work import UnitsOfWork
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import (
    ConversationId,
    GitAccess,
    HostInfo,
    MessagePart,
    RuntimeEvent,
    RuntimeStatus,
    StartPhase,
    StartSpec,
)
from domain.shared.errors import InvalidValueError

__all__ = ("SHARED", "AgentServerRuntime", "RuntimeReach")

_log = logging.getLogger(__name__)


def _last_line(said: str) -> str:
    """What a failed command said last, short enough to show."""
    return said.splitlines()[-1][:300] if said else "no output"


SHARED = "shared"
"""The name of the agent-server a node runs outside every sandbox."""

Announce = Callable[[str, HostInfo], Awaitable[None]]
"""Records where a node's agent-server called so answers now."""


class RuntimeReach:
    """How the servers of other nodes find this node's agent-servers, and this one theirs:
    through the runtime directory (``units``), where this node announces each agent-server
    it runs at ``advertise`` and places each conversation it starts. The node's name is kept
    in ``node_dir``, made when first needed."""

    def __init__(
        self, units: UnitsOfWork, *, node_dir: Path, advertise: str, recheck_s: float = 5.0
    ) -> None:
        self.units = units
        self.advertise = advertise
        """The host other nodes reach this node's agent-servers at."""
        self.recheck_s = recheck_s
        """How long where another node's conversation runs is reused before it is read
        again."""
        self._node_dir = node_dir
        self._node: str | None = None

    @property
    def node(self) -> str:
        """This node's name in the directory (the same across workers and restarts)."""
        if self._node is None:
            self._node = node_name(self._node_dir)
        return self._node


class _Connection:
    """One agent-server: its HTTP client, its event reader and the tools it registered;
    ``node`` and ``name`` say which (``node`` empty for this node's), ``address`` where
    another node's answers."""

    def __init__(
        self,
        host: RuntimeHost,
        timeout_s: float,
        *,
        node: str = "",
        name: str = SHARED,
        announce: Announce | None = None,
        address: RuntimeAddress | None = None,
    ) -> None:
        self.node, self.name, self.address = node, name, address
        self._announce = announce
        self._announced: HostInfo | None = None
        self.client = AgentServerClient(
            host, timeout_s=timeout_s, on_new_address=None if announce is None else self._moved
        )
        self.stream = EventStream(self.client)
        self._tools: tuple[HostInfo, frozenset[str]] | None = None

    async def registered_tools(self) -> frozenset[str]:
        info = await self.client.open()
        if self._tools is None or self._tools[0] != info:
            names = await self.client.read(list[str], "GET", "/api/tools/")
            self._tools = (info, frozenset(names))
        return self._tools[1]

    async def announced(self) -> None:
        """Make sure the directory has where this agent-server answers now (raises when it
        cannot be written)."""
        info = await self.client.open()
        if self._announce is not None and info != self._announced:
            await self._announce(self.name, info)
            self._announced = info

    async def _moved(self, info: HostInfo) -> None:
        """It (re)started, on a new port or with a new key: tell the directory, or leave it
        to the next start to try again."""
        try:
            await self.announced()
        except DependencyUnavailableError as exc:
            _log.warning("agent-server %s not announced: %s", self.name, exc)

    def is_running(self) -> bool:
        """Whether its agent-server runs now, as far as this node can tell without asking
        (one this node does not run counts as running)."""
        host = self.client.host
        return host.is_running() if isinstance(host, SandboxHost) else True

    async def aclose(self) -> None:
        self._tools = None
        await self.client.aclose()


class AgentServerRuntime(ConversationRuntime):
    """Conversations on the agent-server that ``host`` runs or, with ``sandboxes``, on the
    sandbox each conversation was placed in (``host`` keeps the ones started outside any).
    With ``reach``, this node's agent-servers are announced in the runtime directory and each
    conversation placed there when it starts, so a server of another node reaches it; and a
    conversation this node did not start is reached where the directory says it runs."""

    def __init__(
        self,
        host: RuntimeHost,
        *,
        sandboxes: SandboxPool | None = None,
        timeout_s: float = 30.0,
        reach: RuntimeReach | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._reach = reach
        self._sandboxes = sandboxes
        self._default = self._local(host, SHARED)
        self._in_sandbox: dict[str, _Connection] = {}
        self._remote: dict[tuple[str, str], _Connection] = {}
        self._located: dict[ConversationId, tuple[RuntimeAddress | None, float]] = {}

    def _local(self, host: RuntimeHost, name: str) -> _Connection:
        """A connection to one of this node's agent-servers (its ``node`` left empty: this
        one), announced in the directory when one is kept."""
        announce = None if self._reach is None else self._announce
        return _Connection(host, self._timeout_s, name=name, announce=announce)

    def _sandbox(self, name: str) -> _Connection:
        assert self._sandboxes is not None
        connection = self._in_sandbox.get(name)
        if connection is None:
            host = self._sandboxes.host(name)
            connection = self._in_sandbox[name] = self._local(host, name)
        return connection

    async def _of(self, conversation_id: ConversationId) -> _Connection:
        """Where ``conversation_id`` runs: a sandbox of this node, another node's
        agent-server, or the shared one."""
        name = None if self._sandboxes is None else self._sandboxes.placed(conversation_id)
        if name is not None:
            return self._sandbox(name)
        if self._reach is not None:
            found = await self._located_at(conversation_id)
            if found is not None:
                return found
        return self._default

    async def _located_at(self, conversation_id: ConversationId) -> _Connection | None:
        """The agent-server the directory names for ``conversation_id`` (read again after
        ``recheck_s``, since an agent-server moves when it starts again)."""
        reach = self._reach
        assert reach is not None
        now = time.monotonic()
        known = self._located.get(conversation_id)
        if known is None or now - known[1] > reach.recheck_s:
            async with reach.units.begin() as tx:
                known = (await tx.runtime_hosts.locate(conversation_id), now)
            self._located[conversation_id] = known
        address = known[0]
        if address is None:
            return None
        if address.node == reach.node:
            local = address.name != SHARED and self._sandboxes is not None
            return self._sandbox(address.name) if local else self._default
        key = (address.node, address.name)
        connection = self._remote.get(key)
        if connection is None or connection.address != address:
            if connection is not None:
                await connection.aclose()
            connection = self._remote[key] = _Connection(
                ExternalHost(address.url, address.session_key),
                self._timeout_s,
                node=address.node,
                name=address.name,
                address=address,
            )
        return connection

    async def _announce(self, name: str, info: HostInfo) -> None:
        reach = self._reach
        assert reach is not None
        port = urlsplit(info.base_url).port
        host = f"[{reach.advertise}]" if ":" in reach.advertise else reach.advertise
        address = RuntimeAddress(
            node=reach.node, name=name, url=f"http://{host}:{port}", session_key=info.session_key
        )
        async with reach.units.begin() as tx:
            await tx.runtime_hosts.announce(address, datetime.now(UTC))
            await tx.commit()

    async def _place(self, spec: StartSpec) -> _Connection:
        """Where ``spec`` starts: its parent's agent-server for a child (on another node if
        the parent runs there), else its sandbox."""
        if spec.parent_id is not None:
            connection = await self._of(spec.parent_id)
            if connection.address is None and connection.name != SHARED and self._sandboxes:
                self._sandboxes.place(spec.conversation_id, connection.name)
            return connection
        if self._sandboxes is None or spec.sandbox is None:
            return self._default
        self._sandboxes.place(spec.conversation_id, spec.sandbox)
        return self._sandbox(spec.sandbox)

    async def _placed_in_directory(self, spec: StartSpec, connection: _Connection) -> None:
        """Record, before the conversation starts, where it runs, for every server."""
        reach = self._reach
        if reach is None:
            return
        await connection.announced()
        async with reach.units.begin() as tx:
            await tx.runtime_hosts.place(
                spec.conversation_id, connection.node or reach.node, connection.name
            )
            await tx.commit()

    async def check_available(self, sandbox: str | None = None) -> None:
        if self._sandboxes is not None and sandbox is not None:
            # what would stop its sandbox from starting, and room for it; ``start`` starts it
            self._sandboxes.check()
            if not self._sandboxes.host(sandbox).is_running():
                await self._sandboxes.make_room(sandbox)
        else:
            await self._default.client.open()  # starts or adopts the agent-server

    async def start(self, spec: StartSpec, progress: StartProgress | None = None) -> RuntimeStatus:
        async def enter(phase: StartPhase) -> None:
            if progress is not None:
                await progress(phase)

        connection = await self._place(spec)
        if not connection.is_running():
            await enter(StartPhase.STARTING_SANDBOX)
        unknown = sorted(set(spec.tools) - await connection.registered_tools())
        if unknown:
            raise InvalidValueError(
                f"The agent runtime has no tool named {', '.join(unknown)}.", field="tools"
            )
        await self._placed_in_directory(spec, connection)
        if spec.checkout is not None:
            await enter(StartPhase.CLONING)
            await self._check_out(connection, spec)
            if await self._bash(connection, setup_check(spec), 30) == (0, "yes"):
                await enter(StartPhase.SETTING_UP)
                await self._set_up(connection, spec)
        info = await connection.client.read(
            ConversationInfo, "POST", "/api/conversations", body=start_request(spec)
        )
        await enter(StartPhase.READY)
        return parse_status(info.execution_status)

    async def _bash(self, connection: _Connection, command: str, timeout_s: int) -> tuple[int, str]:
        """Run ``command`` on the agent-server's machine: its exit code and what it printed."""
        output = await connection.client.read(
            BashOutput,
            "POST",
            "/api/bash/execute_bash_command",
            body=BashCommand(command=command, cwd="/", timeout=timeout_s),
            timeout_s=timeout_s + 30,
        )
        said = str(output.stdout or "") + str(output.stderr or "")
        return (output.exit_code if output.exit_code is not None else -1), said.strip()

    async def _set_up(self, connection: _Connection, spec: StartSpec) -> None:
        code, said = await self._bash(connection, setup_command(spec), SETUP_TIMEOUT_S)
        if code != 0:
            raise InvalidValueError(
                f"The repository's setup script ({SETUP_SCRIPT}) failed with exit code "
                f"{code}: {_last_line(said)}",
                field="repository",
            )

    async def _check_out(self, connection: _Connection, spec: StartSpec) -> None:
        code, said = await self._bash(connection, checkout_script(spec), CHECKOUT_TIMEOUT_S)
        if code != 0:
            raise InvalidValueError(
                f"The repository could not be cloned: {_last_line(said)}", field="repository"
            )

    async def _post(self, conversation_id: ConversationId, tail: str, body: object = None) -> None:
        path = conversation_path(conversation_id, tail)
        connection = await self._of(conversation_id)
        await connection.client.call("POST", path, conversation_id, body=body)

    async def send_message(
        self, conversation_id: ConversationId, parts: Sequence[MessagePart], *, run: bool = True
    ) -> None:
        if not parts:
            raise InvalidValueError("A message needs at least one part.", field="parts")
        await self._post(conversation_id, "/events", user_message(parts, run=run))

    async def pause(self, conversation_id: ConversationId) -> None:
        await self._post(conversation_id, "/pause")

    async def resume(self, conversation_id: ConversationId) -> None:
        path = conversation_path(conversation_id, "/run")
        connection = await self._of(conversation_id)
        await connection.client.call("POST", path, conversation_id, allow=(409,))

    async def renew_git_access(self, conversation_id: ConversationId, git: GitAccess) -> None:
        await self._post(conversation_id, "/secrets", SecretsUpdate(secrets=git_secret(git)))

    async def stop(self, conversation_id: ConversationId) -> None:
        await self._post(conversation_id, "/interrupt")

    async def get_status(self, conversation_id: ConversationId) -> RuntimeStatus:
        path = conversation_path(conversation_id)
        client = (await self._of(conversation_id)).client
        info = await client.read(ConversationInfo, "GET", path, conversation_id)
        return parse_status(info.execution_status)

    def message_text(self, event: StoredEvent) -> str | None:
        return message_text(event.kind, event.source, event.payload)

    def reply_text(self, event: StoredEvent) -> str | None:
        return reply_text(event.kind, event.source, event.payload)

    async def respond_to_confirmation(
        self, conversation_id: ConversationId, *, accept: bool, reason: str = ""
    ) -> None:
        answer = ConfirmationAnswer(accept=accept, reason=reason)
        await self._post(conversation_id, "/events/respond_to_confirmation", answer)

    async def delete(self, conversation_id: ConversationId) -> None:
        client = (await self._of(conversation_id)).client
        await client.call("DELETE", conversation_path(conversation_id), conversation_id)
        if self._sandboxes is not None:
            self._sandboxes.forget(conversation_id)
        self._located.pop(conversation_id, None)

    async def aclose(self) -> None:
        for connection in (self._default, *self._in_sandbox.values(), *self._remote.values()):
            await connection.aclose()
        self._in_sandbox.clear()
        self._remote.clear()

    async def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        connection = await self._of(conversation_id)
        async with contextlib.aclosing(
            connection.stream.events(conversation_id, after=after)
        ) as events:
            async for event in events:
                yield event
