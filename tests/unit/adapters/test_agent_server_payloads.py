from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.openhands import AgentServerRuntime, ExternalHost
from adapters.openhands.events import is_snapshot, to_runtime_event
from adapters.openhands.payloads import start_request
from application.errors import DependencyUnavailableError
from domain.conversations import (
    ConfirmationMode,
    ConversationId,
    EventType,
    GitAccess,
    RuntimeStatus,
    StartSpec,
)
from domain.settings.mcp import McpConfig, McpRemoteServer, McpStdioServer

CID = ConversationId(uuid4())


def test_the_start_request_owns_titles_and_maps_confirmation() -> None:
    body = start_request(
        StartSpec(
            conversation_id=CID,
            model="openai/stub",
            base_url="http://127.0.0.1:9/v1",
            workspace_dir="/w",
            tools=("terminal",),
            confirmation=ConfirmationMode.ALWAYS,
            llm_retries=0,
            tags={"tenant": "t1"},
        )
    )
    assert body["autotitle"] is False
    assert body["conversation_id"] == str(CID)
    assert body["confirmation_policy"] == {"kind": "AlwaysConfirm"}
    assert body["agent"]["tools"] == [{"name": "terminal"}]
    assert body["agent"]["llm"] == {
        "usage_id": "agent",
        "model": "openai/stub",
        "base_url": "http://127.0.0.1:9/v1",
        "num_retries": 0,
        "retry_multiplier": 1,
        "retry_min_wait": 1,
        "retry_max_wait": 4,
    }
    assert body["workspace"] == {"working_dir": "/w"}
    assert body["tags"] == {"tenant": "t1"}
    assert "secrets" not in body
    assert set(body["agent"]) == {"kind", "llm", "tools"}  # no MCP, no language: left out


def test_the_agent_gets_the_mcp_servers_and_the_language_configured() -> None:
    config = McpConfig(
        stdio_servers=(
            McpStdioServer(
                name="fetch", command="uvx", args=("mcp-server-fetch",), env=(("TOKEN", "t0k"),)
            ),
        ),
        sse_servers=(McpRemoteServer(url="https://sse.example/mcp", api_key="k1"),),
        shttp_servers=(
            McpRemoteServer(url="https://a.example/mcp", timeout=30),
            McpRemoteServer(url="https://b.example/mcp", api_key="k2"),
        ),
    )
    spec = StartSpec(
        conversation_id=CID, model="openai/stub", workspace_dir="/w", language="pt-BR", mcp=config
    )
    agent = start_request(spec)["agent"]
    assert agent["mcp_config"] == {
        "fetch": {"command": "uvx", "args": ["mcp-server-fetch"], "env": {"TOKEN": "t0k"}},
        "sse-1": {
            "url": "https://sse.example/mcp",
            "transport": "sse",
            "headers": {"Authorization": "Bearer k1"},
        },
        "http-1": {"url": "https://a.example/mcp", "transport": "http", "timeout": 30.0},
        "http-2": {
            "url": "https://b.example/mcp",
            "transport": "http",
            "headers": {"Authorization": "Bearer k2"},
        },
    }
    assert "pt-BR" in agent["agent_context"]["system_message_suffix"]
    assert "k1" not in repr(spec)
    assert "t0k" not in repr(spec)


def test_llm_retries_are_bounded_so_an_unreachable_llm_fails_the_run_in_seconds() -> None:
    """The agent-server's own defaults (5 attempts, 8 to 64 s apart) keep a run going for two
    minutes against an LLM that cannot be reached; ours give up after three quick tries."""
    llm = start_request(StartSpec(conversation_id=CID, model="openai/stub", workspace_dir="/w"))[
        "agent"
    ]["llm"]
    assert llm["num_retries"] == 3
    waits = [
        min(max(llm["retry_multiplier"] * 2**n, llm["retry_min_wait"]), llm["retry_max_wait"])
        for n in range(llm["num_retries"] - 1)
    ]
    assert sum(waits) <= 10


def test_secrets_are_static_and_the_git_token_is_looked_up_as_bare_text() -> None:
    """The start request takes secret sources, not plain strings (1.58 answers 422 to those),
    and the git token is fetched with the credential whenever the agent uses it."""
    body = start_request(
        StartSpec(
            conversation_id=CID,
            model="openai/stub",
            workspace_dir="/w",
            secrets={"NPM_TOKEN": "npm-secret"},
            git=GitAccess(provider="gitlab", token_url="https://m.example/t", credential="c"),
        )
    )
    assert body["secrets"] == {
        "NPM_TOKEN": {"kind": "StaticSecret", "value": "npm-secret"},
        "GITLAB_TOKEN": {
            "kind": "LookupSecret",
            "url": "https://m.example/t",
            "headers": {"X-Access-Token": "c", "Accept": "text/plain"},
        },
    }


def test_a_naive_server_time_becomes_utc_and_an_unknown_kind_survives() -> None:
    stamp = "2026-11-22T08:47:12.598069"
    raw = {"id": "e1", "kind": "BrandNewEvent", "timestamp": stamp, "x": [1]}
    event = to_runtime_event(CID, raw)
    local = datetime.fromisoformat(stamp).astimezone(UTC)
    assert event.occurred_at == local
    assert event.type is EventType.OTHER
    assert event.payload == raw
    assert not event.terminal


def test_an_execution_status_event_reports_its_status_and_ends_runs_when_final() -> None:
    running = {"id": "a", "kind": "ConversationStateUpdateEvent", "key": "execution_status"}
    finished = to_runtime_event(CID, {**running, "value": "finished"})
    assert finished.type is EventType.STATUS
    assert (finished.status, finished.terminal) == (RuntimeStatus.FINISHED, True)
    started = to_runtime_event(CID, {**running, "value": "running"})
    assert (started.status, started.terminal) == (RuntimeStatus.RUNNING, False)
    odd = to_runtime_event(CID, {**running, "value": "deleting"})
    assert odd.status is RuntimeStatus.UNAVAILABLE


def test_full_state_snapshots_are_told_apart() -> None:
    assert is_snapshot({"kind": "ConversationStateUpdateEvent", "key": "full_state"})
    assert not is_snapshot({"kind": "ConversationStateUpdateEvent", "key": "stats"})


async def test_an_agent_server_that_does_not_answer_is_unavailable() -> None:
    sut = AgentServerRuntime(ExternalHost("http://127.0.0.1:9", "key"))
    try:
        with pytest.raises(DependencyUnavailableError, match="did not answer"):
            await sut.get_status(CID)
    finally:
        await sut.aclose()
