"""Running ``maestrist serve`` as people and supervisors do: stopping it with bursts of signals,
starting a second one on the same data or port, idle connections and the connection limit,
an unmigrated database, and the first start while the agent-server's virtualenv builds.

Deadlines only keep a broken server from hanging the run; nothing here measures speed.
"""

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from domain.identity.api_keys import issue_token
from entrypoints.cli.serve import SAME_SIGNAL_S
from tests.conftest import (
    REDIS_URL,
    TEST_ENCRYPTION_KEYS,
    TEST_SIGNING_KEYS,
    create_test_database,
    drop_test_database,
)
from tests.e2e.test_server import (
    COMMAND,
    ROOT,
    START_DEADLINE_S,
    STOP_DEADLINE_S,
    RunningServer,
    free_port,
    run_to_exit,
    running_server,
    server_env,
)

pytestmark = pytest.mark.server

JUST = Path(sys.executable).parent / "just"
BURST_ATTEMPTS = 4
BURST_SIGNALS = 40


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_group_gone(process: subprocess.Popen[bytes], deadline_s: float) -> bool:
    """Whether every process of the group ``process`` leads ended within ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        process.poll()
        if group_gone(process.pid):
            return True
        time.sleep(0.05)
    return False


def started(
    log_path: Path, settings: dict[str, str], command: list[str] = COMMAND
) -> AbstractContextManager[RunningServer]:
    """``command`` once it answers ``/health/live``: these servers may start up not ready."""
    return running_server(log_path, settings, command=command, until="/health/live")


def scripted(tmp_path: Path) -> dict[str, str]:
    return {"MAESTRIST_DATA_DIR": str(tmp_path / "data"), "MAESTRIST_RUNTIME": "scripted"}


# --- shutdown ------------------------------------------------------------------------------------


def test_a_burst_of_signals_to_the_group_always_ends_the_server(tmp_path: Path) -> None:
    """Ctrl-C reaching the server through ``just``, or a supervisor signalling the process group
    again and again: however many signals arrive, whenever they land, the group ends."""
    for attempt in range(BURST_ATTEMPTS):
        with started(tmp_path / f"burst-{attempt}.log", scripted(tmp_path)) as server:
            server.wait_ready()
            for sent in range(BURST_SIGNALS):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.process.pid, (signal.SIGINT, signal.SIGTERM)[sent % 2])
            if not wait_group_gone(server.process, STOP_DEADLINE_S):
                pytest.fail(f"attempt {attempt}: still running after the burst:\n{server.log()}")


def test_a_second_signal_during_a_slow_shutdown_stops_at_once(tmp_path: Path) -> None:
    settings = {
        **scripted(tmp_path),
        "MAESTRIST_SHUTDOWN_TIMEOUT": "600",
        "MAESTRIST_KEEP_ALIVE_TIMEOUT": "600",
    }
    with started(tmp_path / "server.log", settings) as server:
        server.wait_ready()
        # A client that never finishes its request keeps the worker's graceful stop waiting.
        with socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]))) as s:
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: slow\r\n")
            os.killpg(server.process.pid, signal.SIGTERM)
            assert not wait_group_gone(server.process, 2 * SAME_SIGNAL_S), "stopped at once"

            os.killpg(server.process.pid, signal.SIGINT)  # later than the same Ctrl-C would be

            if not wait_group_gone(server.process, STOP_DEADLINE_S):
                pytest.fail(f"a second signal did not stop the server:\n{server.log()}")
        assert "stopping at once" in server.log()


@pytest.mark.skipif(not JUST.exists(), reason="`just` is installed with the dev extras")
def test_ctrl_c_through_just_stops_the_server_gracefully(tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole foreground group (``just``, the server and its
    workers) and ``just`` signals the server again: one graceful stop, nothing left."""
    with started(tmp_path / "server.log", scripted(tmp_path), [str(JUST), "serve"]) as server:
        server.wait_ready()
        os.killpg(server.process.pid, signal.SIGINT)
        if not wait_group_gone(server.process, STOP_DEADLINE_S):
            pytest.fail(f"`just serve` still running after Ctrl-C:\n{server.log()}")
        assert any(r.get("event") == "server_stopped" for r in server.log_records()), server.log()
        assert "stopping at once" not in server.log()


@pytest.mark.skipif(not JUST.exists(), reason="`just` is installed with the dev extras")
def test_bursts_of_signals_to_just_serve_always_end_it(tmp_path: Path) -> None:
    for attempt in range(BURST_ATTEMPTS):
        log = tmp_path / f"just-{attempt}.log"
        with started(log, scripted(tmp_path), [str(JUST), "serve"]) as server:
            server.wait_ready()
            for _ in range(BURST_SIGNALS):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.process.pid, signal.SIGINT)
            if not wait_group_gone(server.process, STOP_DEADLINE_S):
                pytest.fail(f"attempt {attempt}: `just serve` still running:\n{server.log()}")


# --- one server per data directory and port ------------------------------------------------------


def test_a_second_server_on_the_same_data_directory_or_port_refuses_to_start(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with running_server(tmp_path / "first.log", scripted(tmp_path)) as first:
        port = first.base_url.rsplit(":", 1)[1]

        same_data = run_to_exit({**scripted(tmp_path), "MAESTRIST_PORT": str(free_port())})
        assert same_data.returncode == 1, same_data.stderr
        assert "data directory" in same_data.stderr
        assert str(data_dir) in same_data.stderr
        assert str(first.process.pid) in same_data.stderr

        other = tmp_path / "other"
        same_port = run_to_exit(
            {
                "MAESTRIST_DATA_DIR": str(other),
                "MAESTRIST_RUNTIME": "scripted",
                "MAESTRIST_PORT": port,
            }
        )
        assert same_port.returncode == 1, same_port.stderr
        assert f"port {port}" in same_port.stderr
        assert not (other / "maestrist.db").exists()

        assert first.get("/api/user/me").status_code == 200
        assert first.stop() == 0

    with running_server(tmp_path / "again.log", scripted(tmp_path)) as again:
        assert again.get("/api/user/me").status_code == 200, "the lock went with the first"


# --- connections ---------------------------------------------------------------------------------


def idle_keep_alive_connection(port: int) -> socket.socket:
    """A connection that made one request, got its answer, and stays open saying nothing."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=STOP_DEADLINE_S)
    connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: idle\r\n\r\n")
    answer = b""
    while b'"ok"' not in answer:
        chunk = connection.recv(4096)
        assert chunk, "closed before answering"
        answer += chunk
    return connection


def test_idle_keep_alive_connections_are_closed_after_the_timeout(tmp_path: Path) -> None:
    settings = {**scripted(tmp_path), "MAESTRIST_KEEP_ALIVE_TIMEOUT": "1"}
    with running_server(tmp_path / "server.log", settings) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        idle = [idle_keep_alive_connection(port) for _ in range(200)]
        try:
            for connection in idle:
                assert connection.recv(1) == b"", "the server closed the idle connection"
        except TimeoutError:
            pytest.fail(f"an idle connection was still open {STOP_DEADLINE_S} s on")
        finally:
            for connection in idle:
                connection.close()


def test_the_connection_limit_reaches_the_server(tmp_path: Path) -> None:
    """At ``MAESTRIST_MAX_CONNECTIONS`` open connections a new client waits, and is served as
    soon as the idle ones time out."""
    settings = {
        **scripted(tmp_path),
        "MAESTRIST_MAX_CONNECTIONS": "8",
        "MAESTRIST_KEEP_ALIVE_TIMEOUT": "5",
    }
    with running_server(tmp_path / "server.log", settings) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        server.http.close()  # its own keep-alive connection would count
        idle = [idle_keep_alive_connection(port) for _ in range(8)]
        try:
            with socket.create_connection(("127.0.0.1", port)) as late:
                late.sendall(b"GET /health/live HTTP/1.1\r\nHost: late\r\n\r\n")
                late.settimeout(1.0)
                with pytest.raises(TimeoutError):
                    late.recv(1)  # not served while eight connections are open
                late.settimeout(STOP_DEADLINE_S)
                assert late.recv(4096).startswith(b"HTTP/1.1 200"), "served once they closed"
        finally:
            for connection in idle:
                connection.close()


# --- an unmigrated database ----------------------------------------------------------------------


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    url = create_test_database()
    try:
        yield url
    finally:
        drop_test_database(url)


@pytest.mark.postgres
@pytest.mark.redis
def test_an_unmigrated_database_is_not_ready_and_the_hint_shows_only_then(
    tmp_path: Path, empty_postgres: str
) -> None:
    settings = {
        "MAESTRIST_BINDING": "clustered",
        "MAESTRIST_DATABASE_URL": empty_postgres,
        "MAESTRIST_REDIS_URL": REDIS_URL,
        "MAESTRIST_DATA_DIR": str(tmp_path / "data"),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
    }
    with started(tmp_path / "unmigrated.log", settings) as server:
        ready = server.get("/health/ready")
        assert ready.status_code == 503, ready.text
        database = ready.json()["dependencies"]["database"]
        assert database["status"] == "down"
        assert "schema is not migrated" in database["error"]
        assert "maestrist migrate" in database["error"]

        key = str(issue_token())  # well formed, so the server looks it up
        api = server.http.get("/api/orgs", headers={"Authorization": f"Bearer {key}"})
        assert api.status_code == 503, api.text
        assert "not migrated" in api.json()["detail"]
        assert "maestrist migrate" in server.log()

    env = server_env(settings)
    migrated = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", "migrate"],
        env=env,
        capture_output=True,
        timeout=START_DEADLINE_S,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr

    with running_server(tmp_path / "migrated.log", settings) as server:
        for _ in range(3):
            assert server.get("/health/ready").status_code == 200
        assert "maestrist migrate" not in server.log()
        # a load balancer probes often: reading the schema revision logs nothing of alembic's
        probed = [r for r in server.log_records() if r.get("logger", "").startswith("alembic")]
        assert not probed, probed


# --- the first start, while the agent-server's virtualenv builds ---------------------------------

FAKE_PYTHON = """#!/bin/sh
# Stands in for Python 3.12 building the agent-server's virtualenv: answers the version
# question, then makes each build step wait until the test writes "release" or "fail".
gate="{gate}"
case "$1" in
  -c) echo "3 12"; exit 0 ;;
esac
while [ ! -e "$gate/release" ] && [ ! -e "$gate/fail" ]; do sleep 0.05; done
if [ -e "$gate/fail" ]; then
  echo "ERROR: No matching distribution found for openhands-sdk" >&2; exit 1
fi
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && touch "$3/pyvenv.cfg" && cp "$0" "$3/bin/python"
fi
exit 0
"""


def fake_python(tmp_path: Path) -> tuple[Path, Path]:
    gate = tmp_path / "gate"
    gate.mkdir()
    python = tmp_path / "python3.12"
    python.write_text(FAKE_PYTHON.format(gate=gate))
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return python, gate


def local_runtime(tmp_path: Path, python: Path) -> dict[str, str]:
    return {
        "MAESTRIST_DATA_DIR": str(tmp_path / "data"),
        "MAESTRIST_RUNTIME": "local",
        "MAESTRIST_AGENT_SERVER_VENV": str(tmp_path / "agent-venv"),
        "MAESTRIST_AGENT_SERVER_PYTHON": str(python),
    }


def runtime_status(server: RunningServer) -> tuple[int, dict[str, str]]:
    ready = server.get("/health/ready")
    return ready.status_code, ready.json()["dependencies"]["runtime"]


def wait_runtime(server: RunningServer, status: str) -> tuple[int, dict[str, str]]:
    deadline = time.monotonic() + START_DEADLINE_S
    code, runtime = runtime_status(server)
    while runtime["status"] != status and time.monotonic() < deadline:
        time.sleep(0.1)
        code, runtime = runtime_status(server)
    assert runtime["status"] == status, (runtime, server.log())
    return code, runtime


def start_conversation(server: RunningServer) -> httpx.Response:
    configured = server.http.post(
        "/api/settings", json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"}
    )
    assert configured.status_code == 200, configured.text
    return server.http.post("/api/conversations", json={"message": "Say hello"})


def test_the_first_start_serves_at_once_while_the_runtime_builds(tmp_path: Path) -> None:
    python, gate = fake_python(tmp_path)
    with started(tmp_path / "server.log", local_runtime(tmp_path, python)) as server:
        server.wait_ready()
        code, runtime = runtime_status(server)
        assert (code, runtime["status"]) == (200, "preparing"), runtime
        assert server.get("/api/user/me").status_code == 200
        assert server.http.get("/api/conversations").status_code == 200

        refused = start_conversation(server)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"]
        assert "being prepared" in refused.json()["detail"]
        assert server.http.get("/api/conversations").json()["items"] == [], "nothing recorded"

        (gate / "release").touch()
        code, _ = wait_runtime(server, "up")
        assert code == 200
        assert f"listening on {server.base_url}" in server.log()
        assert "building" in server.log()
        assert "Warning" not in server.log()


def test_a_failed_build_is_reported_not_waited_for(tmp_path: Path) -> None:
    python, gate = fake_python(tmp_path)
    with started(tmp_path / "server.log", local_runtime(tmp_path, python)) as server:
        server.wait_ready()
        (gate / "fail").touch()
        code, runtime = wait_runtime(server, "failed")
        assert code == 503
        assert "No matching distribution found for openhands-sdk" in runtime["error"]

        refused = start_conversation(server)
        assert refused.status_code == 503, refused.text
        assert "No matching distribution found" in refused.json()["detail"]
        assert "agent-server environment failed" in server.log()


def test_a_venv_that_is_ready_is_not_built_again(tmp_path: Path) -> None:
    venv = Path(os.environ.get("MAESTRIST_AGENT_SERVER_VENV") or ROOT / ".venv-agent-server")
    if not (venv / "bin" / "python").exists():
        pytest.skip("no agent-server virtualenv here")
    python, _ = fake_python(tmp_path)
    settings = {**local_runtime(tmp_path, python), "MAESTRIST_AGENT_SERVER_VENV": str(venv)}
    with running_server(tmp_path / "server.log", settings) as server:
        assert runtime_status(server)[1]["status"] == "up"
        assert "building" not in server.log()
