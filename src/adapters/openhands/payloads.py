"""The agent-server 1.58 JSON this package sends and the parts of its answers and events it
reads. Unknown fields are ignored (the server adds fields freely); a missing or mistyped field
we need is an unreadable answer. Event JSON itself is kept whole as a mapping: these structs
read what we act on out of it."""

from collections.abc import Sequence
from typing import Any

import msgspec

from domain.conversations.value_objects import (
    ConfirmationMode,
    GitAccess,
    ImagePart,
    MessagePart,
    StartSpec,
    TextPart,
)
from domain.settings.mcp import McpConfig, McpRemoteServer

__all__ = (
    "LLM_ATTEMPTS",
    "LLM_RETRY_WAIT_S",
    "AgentSpec",
    "AlwaysConfirm",
    "BashCommand",
    "BashOutput",
    "ConfirmRisky",
    "ConfirmationAnswer",
    "ConversationError",
    "ConversationInfo",
    "EventPage",
    "EventStamp",
    "FullState",
    "LlmConfig",
    "LlmMessage",
    "LookupSecret",
    "Metrics",
    "NeverConfirm",
    "SecretsUpdate",
    "StartConversationRequest",
    "StaticSecret",
    "Stats",
    "TokenUsage",
    "ToolSpec",
    "UserMessage",
    "WorkspaceSpec",
    "content",
    "git_secret",
    "start_request",
    "user_message",
)


# ---- What we send ---------------------------------------------------------------------------


class NeverConfirm(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    pass


class AlwaysConfirm(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    pass


class ConfirmRisky(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    pass


class StaticSecret(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    value: str


class LookupSecret(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A secret the agent-server fetches from ``url`` with ``headers`` whenever it is used."""

    url: str
    headers: dict[str, str]


class LlmConfig(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    usage_id: str
    model: str
    num_retries: int
    retry_multiplier: int
    retry_min_wait: int
    retry_max_wait: int
    base_url: str | None = None
    api_key: str | None = None


class ToolSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str


class AgentContextSpec(msgspec.Struct, frozen=True, kw_only=True):
    system_message_suffix: str


class McpServerSpec(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One server of the agent's ``mcp_config``: a process (``command``) or a URL."""

    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None
    url: str | None = None
    transport: str | None = None
    headers: dict[str, str] | None = None
    timeout: float | None = None


class AgentSpec(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="Agent", tag_field="kind"
):
    llm: LlmConfig
    tools: list[ToolSpec]
    mcp_config: dict[str, McpServerSpec] | None = None
    agent_context: AgentContextSpec | None = None


class WorkspaceSpec(msgspec.Struct, frozen=True, kw_only=True):
    working_dir: str


class StartConversationRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    agent: AgentSpec
    workspace: WorkspaceSpec
    conversation_id: str
    autotitle: bool
    confirmation_policy: NeverConfirm | AlwaysConfirm | ConfirmRisky
    max_iterations: int
    tags: dict[str, str]
    secrets: dict[str, StaticSecret | LookupSecret] | None = None
    parent_conversation_id: str | None = None


class SecretsUpdate(msgspec.Struct, frozen=True, kw_only=True):
    secrets: dict[str, StaticSecret | LookupSecret]


class UserMessage(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    content: list[dict[str, Any]]
    run: bool


class ConfirmationAnswer(msgspec.Struct, frozen=True, kw_only=True):
    accept: bool
    reason: str


class BashCommand(msgspec.Struct, frozen=True, kw_only=True):
    command: str
    cwd: str
    timeout: int


LLM_ATTEMPTS = 3
"""How many times the agent-server tries an LLM call that fails in a way worth retrying (no
connection, 429, 5xx) before the run fails; its own default, 5 attempts waiting 8 to 64 s
apart, kept a conversation ``running`` for two minutes when the LLM could not be reached."""

LLM_RETRY_WAIT_S = (1, 4)
"""The shortest and longest wait between two attempts (doubling from the shortest)."""

_POLICIES: dict[ConfirmationMode, NeverConfirm | AlwaysConfirm | ConfirmRisky] = {
    ConfirmationMode.NEVER: NeverConfirm(),
    ConfirmationMode.ALWAYS: AlwaysConfirm(),
    ConfirmationMode.RISKY: ConfirmRisky(),
}


def git_secret(git: GitAccess) -> dict[str, StaticSecret | LookupSecret]:
    """``<PROVIDER>_TOKEN`` for the agent: a secret the agent-server looks up at our token
    endpoint with the short-lived credential whenever the agent uses it."""
    headers = {"X-Access-Token": git.credential, "Accept": "text/plain"}
    return {f"{git.provider.upper()}_TOKEN": LookupSecret(url=git.token_url, headers=headers)}


def mcp_servers(config: McpConfig) -> dict[str, McpServerSpec]:
    """Our MCP settings as the agent's ``mcp_config``: stdio servers by their names, remote
    ones as ``sse-N`` and ``http-N`` (in their order), an API key as a bearer header."""

    def remote(server: McpRemoteServer, transport: str) -> McpServerSpec:
        headers = None if server.api_key is None else {"Authorization": f"Bearer {server.api_key}"}
        timeout = None if server.timeout is None else float(server.timeout)
        return McpServerSpec(url=server.url, transport=transport, headers=headers, timeout=timeout)

    servers = {
        server.name: McpServerSpec(
            command=server.command, args=list(server.args), env=dict(server.env) or None
        )
        for server in config.stdio_servers
    }
    servers |= {f"sse-{n}": remote(s, "sse") for n, s in enumerate(config.sse_servers, 1)}
    servers |= {f"http-{n}": remote(s, "http") for n, s in enumerate(config.shttp_servers, 1)}
    return servers


def language_instruction(language: str) -> str:
    """What tells the agent which language to write to the user in."""
    return (
        f"The user's preferred language is {language} (a BCP 47 language tag): write your "
        "messages to the user in it. Code, commands and file contents stay as the task needs."
    )


def start_request(spec: StartSpec) -> dict[str, Any]:
    """``StartConversationRequest`` for ``spec``, with the runtime-only ``extras`` beside it;
    titles are ours."""
    llm = LlmConfig(
        usage_id="agent",
        model=spec.model,
        num_retries=LLM_ATTEMPTS if spec.llm_retries is None else spec.llm_retries,
        retry_multiplier=1,
        retry_min_wait=LLM_RETRY_WAIT_S[0],
        retry_max_wait=LLM_RETRY_WAIT_S[1],
        base_url=spec.base_url,
        api_key=spec.api_key,
    )
    secrets: dict[str, StaticSecret | LookupSecret] = {
        name: StaticSecret(value=value) for name, value in spec.secrets.items()
    }
    if spec.git is not None:
        secrets.update(git_secret(spec.git))
    request = StartConversationRequest(
        agent=AgentSpec(
            llm=llm,
            tools=[ToolSpec(name=name) for name in spec.tools],
            mcp_config=None if spec.mcp is None else mcp_servers(spec.mcp) or None,
            agent_context=(
                None
                if spec.language is None
                else AgentContextSpec(system_message_suffix=language_instruction(spec.language))
            ),
        ),
        workspace=WorkspaceSpec(working_dir=spec.workspace_dir),
        conversation_id=str(spec.conversation_id),
        autotitle=False,
        confirmation_policy=_POLICIES[spec.confirmation],
        max_iterations=spec.max_iterations,
        tags=dict(spec.tags),
        secrets=secrets or None,
        parent_conversation_id=None if spec.parent_id is None else str(spec.parent_id),
    )
    body: dict[str, Any] = {**spec.extras, **msgspec.to_builtins(request)}
    return body


def content(parts: Sequence[MessagePart]) -> list[dict[str, Any]]:
    """Message parts as the server's ``TextContent`` and ``ImageContent``."""
    found: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            found.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            found.append({"type": "image", "image_urls": [part.url]})
    return found


def user_message(parts: Sequence[MessagePart], *, run: bool) -> UserMessage:
    return UserMessage(role="user", content=content(parts), run=run)


# ---- What we read ---------------------------------------------------------------------------


class ConversationInfo(msgspec.Struct, frozen=True, kw_only=True):
    execution_status: str | None = None


class BashOutput(msgspec.Struct, frozen=True, kw_only=True):
    exit_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class EventStamp(msgspec.Struct, frozen=True, kw_only=True):
    timestamp: str


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Any] | None = None
    next_page_id: str | None = None


class TokenUsage(msgspec.Struct, frozen=True, kw_only=True):
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Metrics(msgspec.Struct, frozen=True, kw_only=True):
    """One LLM's running totals, as the server's metrics snapshot carries them."""

    model_name: str = ""
    accumulated_cost: float = 0.0
    accumulated_token_usage: TokenUsage | None = None


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    """The ``stats`` of a conversation: metrics by the ``usage_id`` of each LLM."""

    usage_to_metrics: dict[str, Metrics] = msgspec.field(default_factory=dict)


class FullState(msgspec.Struct, frozen=True, kw_only=True):
    stats: Stats | None = None


class LlmMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The ``llm_message`` of a ``MessageEvent``: its parts stay JSON, of kinds we may not know."""

    content: list[Any] = msgspec.field(default_factory=list)


class ConversationError(msgspec.Struct, frozen=True, kw_only=True):
    """Why a run failed: the ``code`` and ``detail`` of a ``ConversationErrorEvent``."""

    code: str | None = None
    detail: str | None = None
