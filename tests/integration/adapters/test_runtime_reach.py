"""A conversation is reached from any node: the node that starts it announces its
agent-server in the runtime directory and places the conversation there; a server of another
node, which runs no agent-server of its own, follows its events and drives it through that
record, and follows the agent-server when it starts again on another port with another key.
Real agent-servers against the stub LLM; the directory on the fake store (its SQL adapters
pass the same contract suite)."""

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.openhands import AgentServerRuntime, LocalProcessConfig, LocalProcessHost
from adapters.openhands.agent_server_env import is_ready
from adapters.openhands.runtime import RuntimeReach
from adapters.scripted import Finish
from domain.conversations import ConversationId, RuntimeStatus, StartSpec
from domain.conversations.entities import Conversation, Tenant
from domain.shared.ids import new_id
from tests.contract.test_conversation_runtime import collect, has_status, text
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeStore
from tests.fakes.unit_of_work import FakeUnitsOfWork
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm

pytestmark = pytest.mark.agent_server

ROOT = Path(__file__).resolve().parents[3]
VENV = Path(os.environ.get("MAESTRIST_AGENT_SERVER_VENV") or ROOT / ".venv-agent-server")


@dataclass
class Node:
    host: LocalProcessHost
    runtime: AgentServerRuntime
    reach: RuntimeReach


@dataclass
class Cluster:
    store: FakeStore
    stub: StubLLM
    first: Node
    second: Node

    def conversation(self) -> ConversationId:
        """A conversation row for the directory to place (its placement refers to it)."""
        user = create_user()
        org, _ = create_org(user)
        cid = ConversationId(new_id())
        self.store.live.conversations[cid] = Conversation(
            id_=cid, tenant=Tenant(org.id_, user.id_), created_at=T0, updated_at=T0
        )
        self.store.commit()
        return cid


def _node(tmp_path: Path, name: str, store: FakeStore) -> Node:
    host = LocalProcessHost(LocalProcessConfig(venv=VENV, data_dir=tmp_path / name))
    reach = RuntimeReach(
        FakeUnitsOfWork(store), node_dir=tmp_path / name, advertise="127.0.0.1", recheck_s=0.0
    )
    return Node(host, AgentServerRuntime(host, reach=reach), reach)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    if not is_ready(VENV):
        pytest.fail(f"The agent-server virtualenv {VENV} is missing; run `just agent-server-env`.")
    store = FakeStore()
    first, second = _node(tmp_path, "first", store), _node(tmp_path, "second", store)
    with run_stub_llm() as stub:
        try:
            yield Cluster(store, stub, first, second)
        finally:
            for node in (first, second):
                await node.runtime.aclose()
                await node.host.stop()


async def test_another_node_follows_and_drives_a_conversation_it_did_not_start(
    cluster: Cluster, tmp_path: Path
) -> None:
    first, second = cluster.first, cluster.second
    cid = cluster.conversation()
    spec = StartSpec(
        conversation_id=cid,
        model=MODEL,
        api_key=API_KEY,
        base_url=cluster.stub.base_url,
        workspace_dir=str(tmp_path / "workspace"),
        llm_retries=0,
    )
    assert await first.runtime.start(spec) is RuntimeStatus.IDLE
    (address,) = cluster.store.committed.runtime_hosts.values()
    info = await first.host.ensure_running()
    assert (address.node, address.name) == (first.reach.node, "shared")
    assert address.url == info.base_url  # advertised on loopback here
    assert address.session_key == info.session_key
    assert cluster.store.committed.placements[cid] == (first.reach.node, "shared")
    assert first.reach.node != second.reach.node

    # The second node reads the status and the events, and sends a message the agent answers.
    assert await second.runtime.get_status(cid) is RuntimeStatus.IDLE
    cluster.stub.script(Finish(message="answered through the other node"))
    await second.runtime.send_message(cid, text("From the second node"))
    seen = await collect(second.runtime, cid, has_status(RuntimeStatus.FINISHED))
    assert "answered through the other node" in str([e.payload for e in seen])
    mine = await collect(first.runtime, cid, has_status(RuntimeStatus.FINISHED))
    assert [e.event_id for e in mine] == [e.event_id for e in seen]
    assert second.host.pid is None  # it ran no agent-server of its own
    assert not (tmp_path / "second" / "host.json").exists()

    # The agent-server starts again elsewhere (a new port and key): the first node announces
    # it as it reconnects, and the second finds it there.
    await first.host.stop()
    assert await first.runtime.get_status(cid) is RuntimeStatus.FINISHED
    moved = await first.host.ensure_running()
    assert moved.base_url != info.base_url or moved.session_key != info.session_key
    (address,) = cluster.store.committed.runtime_hosts.values()
    assert (address.url, address.session_key) == (moved.base_url, moved.session_key)
    cluster.stub.script(Finish(message="after the move"))
    await second.runtime.send_message(cid, text("Still there?"))
    seen = await collect(second.runtime, cid, lambda e: "after the move" in str(e.payload))
    assert seen
