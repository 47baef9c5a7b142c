"""``maestrist serve`` with the real agent-server as its external runtime: what a person
configured (their language and MCP servers, set through the settings API) is in the agent it
runs for their next conversation, and a child conversation started through our API is the
agent-server's child of its parent, on the parent's workspace."""

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.conversations.value_objects import HostInfo
from tests.conftest import REDIS_URL
from tests.e2e.test_clustered_conversation import _api_token
from tests.e2e.test_server import RunningServer, clustered, running_server
from tests.support.agent_server import conversation_at
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis, pytest.mark.agent_server]

MCP_KEY = "mcp-key-for-the-agent-0042"


@dataclass
class Served:
    server: RunningServer
    auth: dict[str, str]
    stub: StubLLM


@pytest.fixture
def served(tmp_path: Path, postgres_url: str, agent_server: HostInfo) -> Iterator[Served]:
    token = asyncio.run(_api_token(postgres_url))
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_RUNTIME": "external",
        "MAESTRIST_AGENT_SERVER_URL": agent_server.base_url,
        "MAESTRIST_AGENT_SERVER_KEY": agent_server.session_key,
    }
    with run_stub_llm() as stub, running_server(tmp_path / "server.log", settings) as server:
        server.http.timeout = 30
        yield Served(server, {"Authorization": f"Bearer {token}"}, stub)


def _configure(served: Served, **more: object) -> None:
    llm = {"llmModel": MODEL, "llmApiKey": API_KEY, "llmBaseUrl": served.stub.base_url}
    configured = served.server.http.post("/api/settings", json={**llm, **more}, headers=served.auth)
    assert configured.status_code == 200, configured.text


def _start(served: Served, **body: object) -> str:
    created = served.server.http.post("/api/conversations", json=body, headers=served.auth)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_the_language_and_mcp_servers_configured_reach_the_agent(
    served: Served, agent_server: HostInfo
) -> None:
    _configure(
        served,
        language="pt-BR",
        mcpConfig={
            "sse_servers": [{"url": "http://127.0.0.1:9/sse", "api_key": MCP_KEY}],
            "stdio_servers": [{"name": "notes", "command": "notes-mcp", "args": ["--read-only"]}],
            "shttp_servers": [],
        },
    )
    agent = conversation_at(agent_server, _start(served, title="Hello"))["agent"]
    assert agent["mcp_config"]["notes"]["command"] == "notes-mcp"
    assert agent["mcp_config"]["notes"]["args"] == ["--read-only"]
    assert agent["mcp_config"]["sse-1"]["url"] == "http://127.0.0.1:9/sse"
    assert "pt-BR" in agent["agent_context"]["system_message_suffix"]
    assert MCP_KEY not in served.server.log()


def test_a_child_conversation_is_the_agent_servers_child_of_its_parent(
    served: Served, agent_server: HostInfo
) -> None:
    _configure(served)
    parent = _start(served, title="Parent")
    child = _start(served, parentId=parent, title="Child")
    at_parent = conversation_at(agent_server, parent)
    at_child = conversation_at(agent_server, child)
    assert at_child["parent_conversation_id"] == parent
    assert child in at_parent["sub_conversation_ids"]
    assert at_child["workspace"]["working_dir"] == at_parent["workspace"]["working_dir"]
    listed = served.server.http.get(
        "/api/conversations", params={"parentId": parent}, headers=served.auth
    ).json()["items"]
    assert [c["id"] for c in listed] == [child]
    note = f"Started child conversation {child}"
    deadline = time.monotonic() + 60
    while not any(note in json.dumps(e["payload"]) for e in _events(served, parent)):
        assert time.monotonic() < deadline, "the parent's events never noted the child"
        time.sleep(0.1)


def _events(served: Served, cid: str) -> list[dict[str, Any]]:
    answer = served.server.http.get(
        f"/api/conversations/{cid}/events", params={"limit": 1000}, headers=served.auth
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])
