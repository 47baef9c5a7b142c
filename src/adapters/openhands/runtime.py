"""Conversations on the OpenHands agent-server, over its HTTP API and event websocket. It builds
the JSON itself and imports nothing of OpenHands, so the server keeps its own Python and
dependencies."""

from collections.abc import AsyncGenerator, Sequence

from adapters.openhands.checkout import CHECKOUT_TIMEOUT_S, checkout_script
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
from adapters.openhands.stream import EventStream
from application.ports.conversation_runtime import ConversationRuntime, RuntimeHost
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import (
    ConversationId,
    GitAccess,
    HostInfo,
    MessagePart,
    RuntimeEvent,
    RuntimeStatus,
    StartSpec,
)
from domain.shared.errors import InvalidValueError

__all__ = ("AgentServerRuntime",)


class AgentServerRuntime(ConversationRuntime):
    """Conversations on the agent-server that ``host`` runs; one HTTP client per host address."""

    def __init__(self, host: RuntimeHost, *, timeout_s: float = 30.0) -> None:
        self._client = AgentServerClient(host, timeout_s=timeout_s)
        self._stream = EventStream(self._client)
        self._tools: tuple[HostInfo, frozenset[str]] | None = None

    async def _registered_tools(self) -> frozenset[str]:
        info = await self._client.open()
        if self._tools is None or self._tools[0] != info:
            names = await self._client.read(list[str], "GET", "/api/tools/")
            self._tools = (info, frozenset(names))
        return self._tools[1]

    async def check_available(self) -> None:
        await self._client.open()  # starts or adopts the agent-server, which starting needs

    async def start(self, spec: StartSpec) -> RuntimeStatus:
        unknown = sorted(set(spec.tools) - await self._registered_tools())
        if unknown:
            raise InvalidValueError(
                f"The agent runtime has no tool named {', '.join(unknown)}.", field="tools"
            )
        if spec.checkout is not None:
            await self._check_out(spec)
        info = await self._client.read(
            ConversationInfo, "POST", "/api/conversations", body=start_request(spec)
        )
        return parse_status(info.execution_status)

    async def _check_out(self, spec: StartSpec) -> None:
        command = BashCommand(command=checkout_script(spec), cwd="/", timeout=CHECKOUT_TIMEOUT_S)
        output = await self._client.read(
            BashOutput,
            "POST",
            "/api/bash/execute_bash_command",
            body=command,
            timeout_s=CHECKOUT_TIMEOUT_S + 30,
        )
        if output.exit_code != 0:
            said = str(output.stderr or output.stdout or "").strip()
            last = said.splitlines()[-1][:300] if said else "no output"
            raise InvalidValueError(
                f"The repository could not be cloned: {last}", field="repository"
            )

    async def _post(self, conversation_id: ConversationId, tail: str, body: object = None) -> None:
        path = conversation_path(conversation_id, tail)
        await self._client.call("POST", path, conversation_id, body=body)

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
        await self._client.call("POST", path, conversation_id, allow=(409,))

    async def renew_git_access(self, conversation_id: ConversationId, git: GitAccess) -> None:
        await self._post(conversation_id, "/secrets", SecretsUpdate(secrets=git_secret(git)))

    async def stop(self, conversation_id: ConversationId) -> None:
        await self._post(conversation_id, "/interrupt")

    async def get_status(self, conversation_id: ConversationId) -> RuntimeStatus:
        path = conversation_path(conversation_id)
        info = await self._client.read(ConversationInfo, "GET", path, conversation_id)
        return parse_status(info.execution_status)

    def message_text(self, event: StoredEvent) -> str | None:
        return message_text(event.kind, event.source, event.payload)

    async def respond_to_confirmation(
        self, conversation_id: ConversationId, *, accept: bool, reason: str = ""
    ) -> None:
        answer = ConfirmationAnswer(accept=accept, reason=reason)
        await self._post(conversation_id, "/events/respond_to_confirmation", answer)

    async def delete(self, conversation_id: ConversationId) -> None:
        await self._client.call("DELETE", conversation_path(conversation_id), conversation_id)

    async def aclose(self) -> None:
        self._tools = None
        await self._client.aclose()

    def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        return self._stream.events(conversation_id, after=after)
