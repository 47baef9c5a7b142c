"""What a person configured reaches the agent: their language and MCP servers, set through
the settings API, are in the agent the real agent-server runs for their next conversation
(``maestrist serve`` with the agent-server as its external runtime)."""

import asyncio
from pathlib import Path

import httpx
import pytest

from domain.conversations.value_objects import HostInfo
from tests.conftest import REDIS_URL
from tests.e2e.test_clustered_conversation import _api_token
from tests.e2e.test_server import clustered, running_server
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis, pytest.mark.agent_server]

MCP_KEY = "mcp-key-for-the-agent-0042"


def test_the_language_and_mcp_servers_configured_reach_the_agent(
    tmp_path: Path,
    postgres_url: str,
    agent_server: HostInfo,
) -> None:
    token = asyncio.run(_api_token(postgres_url))
    auth = {"Authorization": f"Bearer {token}"}
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_RUNTIME": "external",
        "MAESTRIST_AGENT_SERVER_URL": agent_server.base_url,
        "MAESTRIST_AGENT_SERVER_KEY": agent_server.session_key,
    }
    stub: StubLLM
    with run_stub_llm() as stub, running_server(tmp_path / "server.log", settings) as server:
        server.http.timeout = 30
        configured = server.http.post(
            "/api/settings",
            json={
                "llmModel": MODEL,
                "llmApiKey": API_KEY,
                "llmBaseUrl": stub.base_url,
                "language": "pt-BR",
                "mcpConfig": {
                    "sse_servers": [{"url": "http://127.0.0.1:9/sse", "api_key": MCP_KEY}],
                    "stdio_servers": [
                        {"name": "notes", "command": "notes-mcp", "args": ["--read-only"]}
                    ],
                    "shttp_servers": [],
                },
            },
            headers=auth,
        )
        assert configured.status_code == 200, configured.text
        created = server.http.post("/api/conversations", json={"title": "Hello"}, headers=auth)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        with httpx.Client(
            base_url=agent_server.base_url,
            headers={"X-Session-API-Key": agent_server.session_key},
            trust_env=False,
        ) as client:
            agent = client.get(f"/api/conversations/{cid}").json()["agent"]
        logs = server.log()
    assert agent["mcp_config"]["notes"]["command"] == "notes-mcp"
    assert agent["mcp_config"]["notes"]["args"] == ["--read-only"]
    assert agent["mcp_config"]["sse-1"]["url"] == "http://127.0.0.1:9/sse"
    assert "pt-BR" in agent["agent_context"]["system_message_suffix"]
    assert MCP_KEY not in logs
