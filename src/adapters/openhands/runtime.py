"""Conversations on the OpenHands agent-server, over its HTTP API and event websocket. It builds
the JSON itself and imports nothing of OpenHands, so the server keeps its own Python and
dependencies."""

from collections.abc import AsyncGenerator, Sequence

from adapters.openhands.checkout import (
    CHECKOUT_TIMEOUT_S,
    SETUP_SCRIPT,
    SETUP_TIMEOUT_S,
    checkout_script,
    setup_check,
    setup_command,
)
from adapters.openhands.client import AgentServerClient, conversation_path
from adapters.openhands.events import message_text, parse_status
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
from application.ports.conversation_runtime import (
    ConversationRuntime,
    RuntimeHost,
    StartProgress,
)
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

__all__ = ("AgentServerRuntime",)


def _last_line(said: str) -> str:
    """What a failed command said last, short enough to show."""
    return said.splitlines()[-1][:300] if said else "no output"


class _Connection:
    """One agent-server: its HTTP client, its event reader and the tools it registered."""

    def __init__(self, host: RuntimeHost, timeout_s: float) -> None:
        self.client = AgentServerClient(host, timeout_s=timeout_s)
        self.stream = EventStream(self.client)
        self._tools: tuple[HostInfo, frozenset[str]] | None = None

    async def registered_tools(self) -> frozenset[str]:
        info = await self.client.open()
        if self._tools is None or self._tools[0] != info:
            names = await self.client.read(list[str], "GET", "/api/tools/")
            self._tools = (info, frozenset(names))
        return self._tools[1]

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
    sandbox each conversation was placed in (``host`` keeps the ones started outside any)."""

    def __init__(
        self,
        host: RuntimeHost,
        *,
        sandboxes: SandboxPool | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._timeout_s = timeout_s
        self._default = _Connection(host, timeout_s)
        self._sandboxes = sandboxes
        self._in_sandbox: dict[str, _Connection] = {}

    def _sandbox(self, name: str) -> _Connection:
        assert self._sandboxes is not None
        connection = self._in_sandbox.get(name)
        if connection is None:
            host = self._sandboxes.host(name)
            connection = self._in_sandbox[name] = _Connection(host, self._timeout_s)
        return connection

    def _of(self, conversation_id: ConversationId) -> _Connection:
        """Where ``conversation_id`` runs."""
        name = None if self._sandboxes is None else self._sandboxes.placed(conversation_id)
        return self._default if name is None else self._sandbox(name)

    def _place(self, spec: StartSpec) -> _Connection:
        """Where ``spec`` starts: its parent's place for a child, else its sandbox."""
        if self._sandboxes is None:
            return self._default
        name = spec.sandbox
        if spec.parent_id is not None:
            name = self._sandboxes.placed(spec.parent_id)
        if name is None:
            return self._default
        self._sandboxes.place(spec.conversation_id, name)
        return self._sandbox(name)

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

        connection = self._place(spec)
        if not connection.is_running():
            await enter(StartPhase.STARTING_SANDBOX)
        unknown = sorted(set(spec.tools) - await connection.registered_tools())
        if unknown:
            raise InvalidValueError(
                f"The agent runtime has no tool named {', '.join(unknown)}.", field="tools"
            )
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
        await self._of(conversation_id).client.call("POST", path, conversation_id, body=body)

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
        await self._of(conversation_id).client.call("POST", path, conversation_id, allow=(409,))

    async def renew_git_access(self, conversation_id: ConversationId, git: GitAccess) -> None:
        await self._post(conversation_id, "/secrets", SecretsUpdate(secrets=git_secret(git)))

    async def stop(self, conversation_id: ConversationId) -> None:
        await self._post(conversation_id, "/interrupt")

    async def get_status(self, conversation_id: ConversationId) -> RuntimeStatus:
        path = conversation_path(conversation_id)
        client = self._of(conversation_id).client
        info = await client.read(ConversationInfo, "GET", path, conversation_id)
        return parse_status(info.execution_status)

    def message_text(self, event: StoredEvent) -> str | None:
        return message_text(event.kind, event.source, event.payload)

    async def respond_to_confirmation(
        self, conversation_id: ConversationId, *, accept: bool, reason: str = ""
    ) -> None:
        answer = ConfirmationAnswer(accept=accept, reason=reason)
        await self._post(conversation_id, "/events/respond_to_confirmation", answer)

    async def delete(self, conversation_id: ConversationId) -> None:
        client = self._of(conversation_id).client
        await client.call("DELETE", conversation_path(conversation_id), conversation_id)
        if self._sandboxes is not None:
            self._sandboxes.forget(conversation_id)

    async def aclose(self) -> None:
        for connection in (self._default, *self._in_sandbox.values()):
            await connection.aclose()
        self._in_sandbox.clear()

    def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        return self._of(conversation_id).stream.events(conversation_id, after=after)
