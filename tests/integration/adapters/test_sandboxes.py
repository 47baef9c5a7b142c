"""Sandboxes side by side on the real agent-server and real bubblewrap: what one tenant's agent
can reach of another's (nothing), of the server's keys (nothing), the limits inside, and how
idle sandboxes are stopped and room is made.

The agent acts through its terminal, which is the agent-server's bash route: the same commands
an agent's tool call runs, without an LLM in between."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from adapters.openhands import (
    AgentServerRuntime,
    ExternalHost,
    SandboxLimits,
    SandboxPool,
    SandboxPoolConfig,
)
from adapters.openhands.agent_server_env import is_ready
from adapters.openhands.confinement import pids_group, signal_tree
from adapters.scripted import Finish
from application.errors import DependencyUnavailableError
from domain.conversations import ConversationId, HostHealth, RuntimeStatus, StartSpec
from tests.contract.test_conversation_runtime import (
    AGENT_SERVER_VENV,
    collect,
    has_status,
    text,
)
from tests.support.polling import until
from tests.support.stub_llm import API_KEY, MODEL, run_stub_llm

pytestmark = pytest.mark.agent_server

MiB = 1024 * 1024


def pool_at(tmp_path: Path, **overrides: object) -> SandboxPool:
    if not is_ready(AGENT_SERVER_VENV):
        pytest.fail(f"{AGENT_SERVER_VENV} is missing; run `just agent-server-env`.")
    config: dict[str, object] = {
        "venv": AGENT_SERVER_VENV,
        "root": tmp_path / "data" / "agent-server" / "sandboxes",
        "workspace_root": tmp_path / "data" / "workspaces",
        "environment_status": tmp_path / "data" / "agent-server" / "environment.json",
        "limits": SandboxLimits(memory_bytes=4096 * MiB, processes=400, cpu_seconds=600),
        "idle_s": 900.0,
        **overrides,
    }
    return SandboxPool(SandboxPoolConfig(**config))  # type: ignore[arg-type]


@pytest.fixture
async def pool(tmp_path: Path) -> AsyncIterator[SandboxPool]:
    sut = pool_at(tmp_path)
    try:
        yield sut
    finally:
        for name in sut.names():
            await sut.host(name).stop()
        await sut.aclose()


async def run(pool: SandboxPool, sandbox: str, command: str) -> tuple[int, str]:
    """``command`` run by the sandbox's agent terminal: its exit code and what it printed."""
    info = await pool.host(sandbox).ensure_running()
    async with httpx.AsyncClient(base_url=info.base_url, timeout=60) as client:
        response = await client.post(
            "/api/bash/execute_bash_command",
            json={"command": command, "cwd": "/tmp", "timeout": 30},
            headers={"X-Session-API-Key": info.session_key},
        )
    response.raise_for_status()
    answer = response.json()
    return answer["exit_code"], (answer["stdout"] or "") + (answer["stderr"] or "")


async def test_one_tenants_agent_cannot_read_another_tenants_workspace_or_the_servers_keys(
    pool: SandboxPool, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server_key = data / "master.key"
    server_key.parent.mkdir(parents=True)
    server_key.write_text("server-secret-key")
    (data / "maestrist.db").write_text("server-database")
    workspaces = pool.config.workspace_root

    # Each tenant's agent writes in its own workspace, where the server puts workspaces.
    code, said = await run(
        pool,
        "org-b",
        f"cd {workspaces} && mkdir -p c2 && echo b-only > c2/notes && cat {workspaces}/c2/notes",
    )
    assert (code, said.strip()) == (0, "b-only")
    code, said = await run(
        pool,
        "org-a",
        f"mkdir -p {workspaces}/c1 && echo a-only > {workspaces}/c1/notes && ls {workspaces}",
    )
    assert (code, said.split()) == (0, ["c1"])  # b's conversation is not there at all
    b_root = pool.config.root / "org-b"
    assert (b_root / "workspaces" / "c2" / "notes").read_text() == "b-only\n"

    # Everything of B's and of the server's, by every path it has on the machine.
    b_info = pool.host("org-b").inner.recorded()
    assert b_info is not None
    for path in (
        b_root / "workspaces" / "c2" / "notes",
        b_root / "host.json",
        b_root / "secret-key",
        b_root / "state",
        pool.config.root / "org-a" / "secret-key",  # its own key stays outside, too
        server_key,
        data / "maestrist.db",
        Path.cwd() / "pyproject.toml",
    ):
        code, said = await run(pool, "org-a", f"cat {path} || ls {path}")
        assert code != 0, (path, said)
        assert "No such file or directory" in said
    # B's session key is in B's record and B's environment: neither is anywhere A can look.
    code, said = await run(
        pool,
        "org-a",
        # (its own commands' records hold the key it searched for)
        f"grep -rls --exclude-dir=bash_events {b_info.session_key} /proc/*/environ {tmp_path}",
    )
    assert said.strip() == ""
    # Nor through the network's back door: B's agent-server refuses A without B's key.
    route = f"{b_info.base_url}/api/bash/execute_bash_command"
    code, said = await run(
        pool, "org-a", f"curl -s -o /dev/null -w '%{{http_code}}' -X POST {route} -d '{{}}'"
    )
    assert said.strip() == "401"

    # The system is read-only; the agent's processes are its own alone.
    code, said = await run(pool, "org-a", "touch /usr/x || touch /etc/x")
    assert code != 0
    assert "Read-only file system" in said
    code, said = await run(pool, "org-a", "ls /proc | grep -c '^[0-9]'")
    own_processes = int(said.strip())
    assert own_processes < 30  # B's agent-server, the server, the test runner: none is seen


async def test_a_sandbox_holds_its_processes_to_their_limits(tmp_path: Path) -> None:
    sut = pool_at(
        tmp_path,
        limits=SandboxLimits(memory_bytes=2048 * MiB, processes=200, cpu_seconds=3600),
    )
    try:
        python = AGENT_SERVER_VENV.absolute() / "bin" / "python"
        code, said = await run(sut, "org-a", f"{python} -c 'bytearray(3 * 1024 ** 3)'")
        assert code != 0
        assert "MemoryError" in said
        # The kernel counts processes per sandbox (each has its own user namespace), but it
        # exempts root's: a server run as root also puts the sandbox in a pids cgroup.
        code, said = await run(sut, "org-a", "grep 'Max processes' /proc/self/limits")
        assert said.split()[2:4] == ["200", "200"]
        code, said = await run(sut, "org-a", "for i in $(seq 300); do sleep 5 & done; wait")
        assert "Resource temporarily unavailable" in said or "Cannot fork" in said
        if os.geteuid() == 0:  # and that cgroup goes when the sandbox stops
            host = sut.host("org-a").inner
            group = pids_group(host.cgroup_key)
            assert group is not None
            assert (group / "pids.max").read_text().strip() == "200"
            await host.stop()
            assert not group.exists()
        # CPU time is the kernel's to count: the limit is on every process inside.
        code, said = await run(sut, "org-a", "grep 'Max cpu time' /proc/self/limits")
        assert said.split()[3:5] == ["3600", "3600"]
        # The sandbox itself goes on.
        code, said = await run(sut, "org-a", "echo alive")
        assert (code, said.strip()) == (0, "alive")
    finally:
        for name in sut.names():
            await sut.host(name).stop()
        await sut.aclose()


async def test_idle_sandboxes_stop_and_start_again_when_used(pool: SandboxPool) -> None:
    await run(pool, "org-a", "echo a > /tmp/x")
    await run(pool, "org-b", "echo b")
    recently = time.time()

    assert await pool.reap(now=recently) == []  # used just now
    stopped = await pool.reap(now=recently + 901)

    assert sorted(stopped) == ["org-a", "org-b"]
    assert await pool.host("org-a").health() is HostHealth.DOWN
    code, said = await run(pool, "org-a", "echo again")  # started again on use
    assert (code, said.strip()) == (0, "again")


async def test_a_start_longer_than_the_idle_time_is_not_taken_for_idleness(
    tmp_path: Path,
) -> None:
    """An agent-server takes seconds to come up; with an idle time shorter than that, a reaper
    asking all along must not stop it as it comes up (it was stopped before its first call,
    which met a closed connection), and does once it has been idle that long."""
    sut = pool_at(tmp_path, idle_s=2.0)
    try:
        starting = asyncio.create_task(sut.host("org-a").ensure_running())
        stopped: list[str] = []
        while not starting.done():
            stopped += await sut.reap()
            await asyncio.sleep(0.05)
        await starting

        assert stopped == []
        code, said = await run(sut, "org-a", "echo up")
        assert (code, said.strip()) == (0, "up")
        assert await sut.reap(now=time.time() + 3) == ["org-a"]
    finally:
        for name in sut.names():
            await sut.host(name).stop()
        await sut.aclose()


async def test_room_is_made_by_stopping_the_longest_idle_sandbox(tmp_path: Path) -> None:
    sut = pool_at(tmp_path, max_running=2)
    try:
        await run(sut, "org-a", "true")
        await run(sut, "org-b", "true")
        await run(sut, "org-b", "true")  # b used last

        await run(sut, "org-c", "true")

        up = {name: await sut.host(name).health() for name in sut.names()}
        assert up == {
            "org-a": HostHealth.DOWN,
            "org-b": HostHealth.UP,
            "org-c": HostHealth.UP,
        }
    finally:
        for name in sut.names():
            await sut.host(name).stop()
        await sut.aclose()


async def test_a_sandbox_name_that_is_not_one_is_refused(pool: SandboxPool) -> None:
    with pytest.raises(Exception, match="not a sandbox name"):
        pool.host("../escape")


async def test_without_bubblewrap_starting_a_sandbox_says_what_to_install(
    pool: SandboxPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    fresh = SandboxPool(pool.config)
    with pytest.raises(DependencyUnavailableError, match="bubblewrap"):
        await fresh.host("org-a").ensure_running()
    assert fresh.names() == []


async def test_a_conversation_outlives_its_sandbox_killed_hard(tmp_path: Path) -> None:
    """A sandbox whose agent-server is killed (SIGKILL: no chance to let go of anything)
    starts again on the next message, and its conversation is there and goes on, at once."""
    pool = pool_at(tmp_path)
    runtime = AgentServerRuntime(ExternalHost("http://127.0.0.1:9", "unused"), sandboxes=pool)
    cid = ConversationId(uuid4())
    try:
        with run_stub_llm() as stub:
            spec = StartSpec(
                conversation_id=cid,
                model=MODEL,
                api_key=API_KEY,
                base_url=stub.base_url,
                workspace_dir=str(pool.config.workspace_root / str(cid)),
                llm_retries=0,
                sandbox="org-a",
            )
            assert await runtime.start(spec) is RuntimeStatus.IDLE
            stub.script(Finish(message="before"))
            await runtime.send_message(cid, text("First"))
            await collect(runtime, cid, has_status(RuntimeStatus.FINISHED))

            host = pool.host("org-a").inner
            assert host.pid is not None
            signal_tree(host.pid, signal.SIGKILL)
            await until(lambda: not host.is_alive(), "the sandbox's agent-server died")

            stub.script(Finish(message="after the kill"))
            await runtime.send_message(cid, text("Again"))  # starts the sandbox again
            said = await collect(runtime, cid, lambda e: "after the kill" in str(e.payload))
            assert said
    finally:
        await runtime.aclose()
        for name in pool.names():
            await pool.host(name).stop()
        await pool.aclose()
