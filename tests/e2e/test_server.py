"""The production server (``maestrist serve``, granian) in a child process, driven over HTTP.

Every server runs in a process group of its own and is killed with it at the end of its test.
Deadlines below only keep a broken server from hanging the run; nothing here measures speed.
"""

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import NO_RATE_LIMITS, REDIS_URL, TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS

pytestmark = pytest.mark.server

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 20.0
RECOVERY_DEADLINE_S = 10.0
COMMAND = [sys.executable, "-m", "entrypoints.cli.main", "serve"]
ROOT = Path(__file__).resolve().parents[2]

_T = TypeVar("_T")


def free_port() -> int:
    """A loopback port nothing listens on (the kernel just handed it out and it was let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def server_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without stray ``MAESTRIST_*`` settings, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAESTRIST_")}
    env.update(NO_RATE_LIMITS)
    env.update(settings)
    return env


def kill_group(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGKILL the process group the server leads (its granian workers included) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_DEADLINE_S)


PORT_ATTEMPTS = 5


class PortTakenError(Exception):
    """The free port was taken by someone else before the server could bind it."""


class RunningServer:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.http = httpx.Client(base_url=self.base_url, timeout=10, trust_env=False)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def wait_ready(self, path: str = "/health/ready") -> httpx.Response:
        """Wait until ``path`` answers 200 (``/health/live`` for a server that may start up
        not ready, on purpose)."""
        deadline = time.monotonic() + START_DEADLINE_S
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if f"port {self.port} on 127.0.0.1 is already in use" in self.log():
                    raise PortTakenError(self.port)
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = self.get(path)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return response
                last = f"{response.status_code} {response.text}"
            time.sleep(0.2)
        pytest.fail(f"{path} not 200 within {START_DEADLINE_S} s ({last}):\n{self.log()}")

    def stop(self, *, whole_group: bool = True) -> int:
        """SIGTERM the process group (Ctrl-C in a shell, systemd) or only the main process
        (``docker stop``, Kubernetes, where it is PID 1); the server's exit code."""
        if whole_group:
            os.killpg(self.process.pid, signal.SIGTERM)
        else:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"server still running {STOP_DEADLINE_S} s after SIGTERM:\n{self.log()}")

    def close(self) -> None:
        self.http.close()
        kill_group(self.process)


@contextmanager
def running_server(
    log_path: Path,
    settings: dict[str, str],
    *,
    command: list[str] = COMMAND,
    until: str = "/health/ready",
    port: int | None = None,
) -> Iterator[RunningServer]:
    """Start ``command`` (``maestrist serve``) in a process group of its own, from the
    checkout, on a free port (or ``port``: a server restarted where it was), and wait until
    ``until`` answers 200. A port let go by ``free_port`` can be taken by another server
    before this one binds it: then it starts again on another."""
    for _ in range(PORT_ATTEMPTS):
        chosen = port or free_port()
        env = server_env(
            {"MAESTRIST_PORT": str(chosen), "MAESTRIST_LOG_FORMAT": "json", **settings}
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = RunningServer(process, chosen, log_path)
        try:
            server.wait_ready(until)
        except PortTakenError:
            server.close()
            if port is not None:
                pytest.fail(f"port {port} is taken")
            continue
        except BaseException:
            server.close()
            raise
        try:
            yield server
        finally:
            server.close()
        return
    pytest.fail(f"every one of {PORT_ATTEMPTS} free ports was taken before the server bound it")


def run_to_exit(settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``maestrist serve`` with ``settings`` (over this environment's, less its own), expected
    to refuse to start: what it printed and its exit code."""
    env = server_env({"MAESTRIST_LOG_FORMAT": "json", **settings})
    with subprocess.Popen(
        COMMAND,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=START_DEADLINE_S)
        except subprocess.TimeoutExpired:
            kill_group(process)
            pytest.fail("the server did not refuse to start")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def assert_group_gone(server: RunningServer) -> None:
    """No granian worker outlived the main process."""
    with pytest.raises(ProcessLookupError):
        os.killpg(server.process.pid, 0)


# --- embedded binding --------------------------------------------------------------------------


def test_embedded_defaults_serve_the_local_user_and_stop_gracefully(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = {"MAESTRIST_DATA_DIR": str(data_dir)}

    with running_server(tmp_path / "first.log", settings) as server:
        ready = server.get("/health/ready")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready"
        assert set(body["dependencies"]) == {"database", "runtime"}
        assert body["dependencies"]["database"]["status"] == "up"
        assert body["dependencies"]["runtime"]["status"] == "up", "its virtualenv is built"

        me = server.get("/api/user/me")
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "local@localhost"
        user_id = me.json()["id"]
        request_id = me.headers["x-request-id"]
        assert request_id

        assert server.stop() == 0
        assert_group_gone(server)
        records = server.log_records()
        assert any(record.get("request_id") == request_id for record in records), server.log()
        assert any(record.get("event") == "server_stopped" for record in records), server.log()
    assert (data_dir / "maestrist.db").is_file()

    with running_server(tmp_path / "second.log", settings) as restarted:
        again = restarted.get("/api/user/me")
        assert again.status_code == 200, again.text
        assert again.json()["id"] == user_id
        assert restarted.stop(whole_group=False) == 0
        assert_group_gone(restarted)
        assert any(r.get("event") == "server_stopped" for r in restarted.log_records())


def test_incoming_request_id_is_echoed_and_logged(tmp_path: Path) -> None:
    with running_server(tmp_path / "server.log", {"MAESTRIST_DATA_DIR": str(tmp_path)}) as server:
        response = server.http.get("/health/live", headers={"X-Request-ID": "trace-42.a:b"})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "trace-42.a:b"
        assert server.stop() == 0
        logged = [r for r in server.log_records() if r.get("request_id") == "trace-42.a:b"]
        assert logged, server.log()
        assert logged[0]["path"] == "/health/live"


# --- clustered binding ---------------------------------------------------------------------------


class TcpProxy:
    """Forwards a loopback port to another address from a thread with its own event loop.

    ``stop`` closes the listener and every forwarded connection, as a dead server would;
    ``start`` listens again on the same port. It accepts on a socket of its own rather than
    through ``asyncio.start_server``, whose server, closed as a connection is being accepted,
    drops that connection's socket without closing it on Python 3.11 (a ``ResourceWarning``
    that fails whichever test is running when it is collected).
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        self._call(self._stop())

    def close(self) -> None:
        try:
            self.stop()
            self._call(self._settle())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _settle(self) -> None:
        """Let every task finish and every close complete, so that no transport outlives the
        loop."""
        while True:
            await asyncio.sleep(0)
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if not pending:
                break
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(0)  # the closes' connection_lost callbacks

    async def _start(self) -> None:
        assert self._listener is None
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = asyncio.create_task(self._accept(listener))

    async def _accept(self, listener: socket.socket) -> None:
        """Forward what ``listener`` accepts until the proxy stops: ``_stop`` wakes it with a
        connection of its own, and whatever it accepts then is closed."""
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(listener)
            if self._listener is not listener:
                conn.close()
                return
            task = asyncio.create_task(self._forward(conn, listener))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _stop(self) -> None:
        listener, self._listener = self._listener, None
        accepting, self._accepting = self._accepting, None
        if listener is not None and accepting is not None:
            # A connection to the listener completes in its backlog, so this never blocks.
            with socket.create_connection(listener.getsockname(), timeout=5):
                await asyncio.gather(accepting, return_exceptions=True)
        if listener is not None:
            listener.close()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*list(self._handlers), return_exceptions=True)

    async def _forward(self, conn: socket.socket, listener: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=conn)
        except OSError:
            conn.close()
            return
        self._writers.add(writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            self._writers.discard(writer)
            return
        self._writers.add(upstream_writer)
        try:
            if self._listener is listener:  # not stopped while this connected
                await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        finally:
            for end in (writer, upstream_writer):
                end.close()
                self._writers.discard(end)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    target = urlsplit(REDIS_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.close()


def via_proxy(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return parts._replace(netloc=netloc).geturl()


def clustered(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "MAESTRIST_BINDING": "clustered",
        "MAESTRIST_DATABASE_URL": database_url,
        "MAESTRIST_REDIS_URL": redis_url,
        "MAESTRIST_DATA_DIR": str(tmp_path / "data"),
        "MAESTRIST_DEPENDENCY_TIMEOUT": "1",
        "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
    }


@pytest.mark.redis
def test_a_proxy_stopped_and_started_under_connections_forwards_and_leaks_nothing() -> None:
    """The outage tests' proxy, stopped and started again while clients keep connecting:
    through it Redis answers, while stopped it refuses, and no socket is left unclosed (the
    suite turns the ``ResourceWarning`` of one collected unclosed into a failure)."""
    target = urlsplit(REDIS_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    stop = threading.Event()

    def connect_again_and_again() -> None:
        while not stop.is_set():
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", proxy.port), timeout=1) as client,
            ):
                client.sendall(b"PING\r\n")
                client.recv(16)

    clients = [threading.Thread(target=connect_again_and_again) for _ in range(4)]
    try:
        proxy.start()
        for client in clients:
            client.start()
        for _ in range(100):
            proxy.stop()
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
            proxy.start()
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as probe:
                probe.sendall(b"PING\r\n")
                assert probe.recv(16) == b"+PONG\r\n"
    finally:
        stop.set()
        for client in clients:
            if client.is_alive():
                client.join(timeout=10)
        proxy.close()
    gc.collect()


def dependency_statuses(response: httpx.Response) -> dict[str, str]:
    return {name: dep["status"] for name, dep in response.json()["dependencies"].items()}


@pytest.mark.postgres
@pytest.mark.redis
def test_clustered_is_ready_when_database_and_redis_answer(
    tmp_path: Path, postgres_url: str
) -> None:
    with running_server(
        tmp_path / "server.log", clustered(tmp_path, postgres_url, REDIS_URL)
    ) as server:
        ready = server.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert dependency_statuses(ready) == {"database": "up", "redis": "up", "runtime": "up"}

        assert server.stop() == 0
        assert_group_gone(server)
        assert any(r.get("event") == "server_stopped" for r in server.log_records())


@pytest.mark.postgres
@pytest.mark.redis
def test_clustered_readiness_follows_a_redis_outage(
    tmp_path: Path, postgres_url: str, redis_proxy: TcpProxy
) -> None:
    settings = clustered(tmp_path, postgres_url, via_proxy(REDIS_URL, redis_proxy))
    with running_server(tmp_path / "server.log", settings) as server:
        assert dependency_statuses(server.get("/health/ready")) == {
            "database": "up",
            "redis": "up",
            "runtime": "up",
        }

        redis_proxy.stop()
        down = server.get("/health/ready")
        assert down.status_code == 503, down.text
        assert down.json()["status"] == "unavailable"
        assert dependency_statuses(down) == {"database": "up", "redis": "down", "runtime": "up"}
        assert down.json()["dependencies"]["redis"]["error"]
        assert server.get("/health/live").status_code == 200

        redis_proxy.start()
        deadline = time.monotonic() + RECOVERY_DEADLINE_S
        recovered = server.get("/health/ready")
        while recovered.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            recovered = server.get("/health/ready")
        assert recovered.status_code == 200, recovered.text
        assert dependency_statuses(recovered) == {"database": "up", "redis": "up", "runtime": "up"}


# --- bad configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named", "not_named"),
    [
        pytest.param({"MAESTRIST_PORT": "notaport"}, "MAESTRIST_PORT", (), id="port"),
        pytest.param(
            {"MAESTRIST_BINDING": "clustered", "MAESTRIST_REDIS_URL": REDIS_URL},
            "MAESTRIST_DATABASE_URL",
            ("MAESTRIST_REDIS_URL",),
            id="clustered-without-database",
        ),
    ],
)
def test_bad_configuration_exits_2_naming_the_variable(
    tmp_path: Path, settings: dict[str, str], named: str, not_named: tuple[str, ...]
) -> None:
    data_dir = tmp_path / "data"
    refused = run_to_exit(
        {"MAESTRIST_PORT": str(free_port()), "MAESTRIST_DATA_DIR": str(data_dir), **settings}
    )

    assert refused.returncode == 2, refused.stderr
    assert named in refused.stderr
    for name in not_named:
        assert name not in refused.stderr
    assert refused.stdout == "", "nothing was logged: the server never started"
    assert not data_dir.exists(), "nothing was created"
