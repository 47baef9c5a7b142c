"""The agent-server as a child process of ours, from its own virtualenv, on loopback.

The process outlives the server that started it: its pid, port and session key are kept in
``host.json`` (0600) in the host's data directory, so the next server adopts it, or cleans up
after it when it died. Stopping it is SIGTERM, then SIGKILL after a grace period.
"""

import asyncio
import fcntl
import hashlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import httpx

from adapters.openhands.agent_server_env import (
    AGENT_SERVER_VERSION,
    EnvironmentState,
    EnvironmentStatus,
    environment_status,
    venv_python,
)
from adapters.openhands.agent_server_env import process_alive as _alive
from adapters.openhands.confinement import (
    Bubblewrap,
    in_pids_cgroup,
    pids_cgroup,
    remove_pids_cgroup,
    signal_tree,
)
from adapters.openhands.external_host import probe_ready
from application.errors import (
    DependencyFailedError,
    DependencyPreparingError,
    DependencyUnavailableError,
)
from application.ports.conversation_runtime import RuntimeHost
from application.ports.dependency_probe import DependencyProbe
from domain.conversations.value_objects import HostHealth, HostInfo

__all__ = (
    "LocalProcessConfig",
    "LocalProcessEnvironmentProbe",
    "LocalProcessHost",
    "node_lock",
    "node_name",
)

_log = logging.getLogger(__name__)

_STATE_FILE = "host.json"
_SECRET_FILE = "secret-key"  # noqa: S105 - a file name
_LOG_FILE = "agent-server.log"
_LOCK_FILE = "host.lock"
_ENVIRONMENT_STATUS_FILE = "environment.json"
_ENVIRONMENT_LOG_FILE = "environment.log"
_DROPPED_ENV = ("MAESTRIST_", "OH_", "SESSION_API_KEY", "OPENHANDS_", "PYTHON", "VIRTUAL_ENV")
_LAUNCHER = """
import subprocess, sys, os
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
child = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
print(child.pid, flush=True)
os._exit(0)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalProcessConfig:
    venv: Path
    """The agent-server's virtualenv (``scripts/agent_server_env.py`` makes it)."""
    data_dir: Path
    """This host's own directory: state, log, conversations and the default workspace."""
    startup_timeout_s: float = 90.0
    stop_timeout_s: float = 15.0
    extra_env: Mapping[str, str] = field(default_factory=dict)
    confinement: Bubblewrap | None = None
    """A sandbox: the agent-server runs inside these walls, seeing only ``state_dir`` and
    ``workspaces`` of the disk it may write."""
    environment_status: Path | None = None
    """Where a build of the virtualenv says how it goes, when not in ``data_dir`` (sandboxes
    share the one build)."""
    workspaces: tuple[Path, Path] | None = None
    """Confined: this sandbox's workspaces directory and where the agent sees it (the path the
    server gives conversations as their workspace root)."""
    listen: str = "127.0.0.1"
    """The address the agent-server listens on (``0.0.0.0``: every interface), for servers of
    other nodes to reach it; this node reaches it on loopback unless that is not among them."""

    @property
    def connect_host(self) -> str:
        """Where this node reaches the agent-server."""
        return "127.0.0.1" if self.listen in _EVERY_OR_LOOPBACK else self.listen

    @property
    def state_dir(self) -> Path:
        """What the agent-server writes: its conversations, its bash events, its home. In a
        sandbox, a directory of its own, away from the key and state files beside it."""
        return self.data_dir / "state" if self.confinement is not None else self.data_dir


_EVERY_OR_LOOPBACK = frozenset({"0.0.0.0", "::", "127.0.0.1", "localhost"})  # noqa: S104


@dataclass(frozen=True, slots=True, kw_only=True)
class _State:
    pid: int
    port: int
    session_key: str
    version: str
    started_at: float
    host: str = "127.0.0.1"
    """Where this node reaches it (recorded before this was a setting: loopback)."""
    ready_at: float | None = None
    """When it first answered (None while it starts, and in states recorded before this was
    kept)."""

    @property
    def info(self) -> HostInfo:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return HostInfo(
            base_url=f"http://{host}:{self.port}",
            session_key=self.session_key,
            version=self.version,
        )


@asynccontextmanager
async def node_lock(path: Path) -> AsyncIterator[None]:
    """Held by one process of this machine at a time (a lock on the file ``path``); the
    directory is made private when missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def interpreter_dirs(venv: Path) -> list[Path]:
    """What running ``venv``'s Python reads: the virtualenv and the installation it was made
    from (``home`` in its ``pyvenv.cfg``), when that lies outside the system directories."""
    dirs = [venv.absolute()]
    try:
        config = (venv / "pyvenv.cfg").read_text()
    except OSError:
        return dirs
    for line in config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            prefix = Path(value.strip()).parent
            if not prefix.is_relative_to("/usr"):
                dirs.append(prefix)
    return dirs


def _is_agent_server(pid: int) -> bool:
    """Whether ``pid`` still runs the agent-server (and is not a recycled pid); without
    ``/proc`` the HTTP check decides alone."""
    try:
        return b"openhands.agent_server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return False


def _free_port(address: str) -> int:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


def node_name(directory: Path) -> str:
    """This node's name in the runtime directory: made once per data directory and kept in
    its file ``node``, so every worker and every restart of this node's server says the
    same (made with a link, which only one of workers racing to make it wins)."""
    path = directory / "node"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = directory / f".node-{secrets.token_hex(8)}"
    _write_private(made, f"node-{secrets.token_hex(8)}")
    try:
        os.link(made, path)
    except FileExistsError:
        pass  # another worker made it first: its name holds
    finally:
        made.unlink()
    return path.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


class LocalProcessHost(RuntimeHost):
    def __init__(self, config: LocalProcessConfig) -> None:
        self._config = config
        self._dir = config.data_dir
        self._state: _State | None = None
        self._lock = asyncio.Lock()

    @property
    def log_path(self) -> Path:
        return self._dir / _LOG_FILE

    @property
    def environment_status_path(self) -> Path:
        """Where a build of the virtualenv says it is working, or why it failed."""
        return self._config.environment_status or self._dir / _ENVIRONMENT_STATUS_FILE

    @property
    def environment_log_path(self) -> Path:
        return self._dir / _ENVIRONMENT_LOG_FILE

    def environment(self) -> EnvironmentStatus:
        return environment_status(self._config.venv, self.environment_status_path)

    def check_environment(self) -> None:
        """Raise what starting the agent-server would meet, in the words a user needs."""
        status = self.environment()
        if status.state is EnvironmentState.PREPARING:
            raise DependencyPreparingError(
                f"The agent runtime is being prepared: the OpenHands agent-server "
                f"{AGENT_SERVER_VERSION} is installing (a minute or two on first start); "
                f"try again shortly."
            )
        if status.state is EnvironmentState.FAILED:
            raise DependencyFailedError(
                f"The agent runtime could not be prepared: {status.detail}. Fix that and "
                f"restart the server, or run `just agent-server-env`."
            )
        if status.state is EnvironmentState.MISSING:
            raise DependencyUnavailableError(
                f"The OpenHands agent-server {AGENT_SERVER_VERSION} is not installed in "
                f"{self._config.venv}; run `just agent-server-env` (needs Python 3.12 or newer)."
            )

    @property
    def pid(self) -> int | None:
        return self._state.pid if self._state is not None else None

    async def ensure_running(self) -> HostInfo:
        async with self._lock:
            state = self._state
            if state is not None and _alive(state.pid) and _is_agent_server(state.pid):
                return state.info
            self._state = None
            async with self._machine_lock():
                stored = self._read_state()
                if stored is not None:
                    if await self._adopt(stored):
                        self._state = stored
                        return stored.info
                    await self._terminate(stored.pid)
                    self._state_path.unlink(missing_ok=True)
                self._state = await self._spawn()
                return self._state.info

    def _machine_lock(self) -> AbstractAsyncContextManager[None]:
        """Excludes other processes (server workers) working on this host's directory."""
        return node_lock(self._dir / _LOCK_FILE)

    def recorded(self) -> HostInfo | None:
        """Where the agent-server recorded for this host answers, if one is."""
        state = self._state or self._read_state()
        return None if state is None else state.info

    def is_alive(self) -> bool:
        """Whether the agent-server recorded for this host still runs (no HTTP asked)."""
        state = self._state or self._read_state()
        return state is not None and _alive(state.pid) and _is_agent_server(state.pid)

    async def health(self) -> HostHealth:
        state = self._state or self._read_state()
        if state is None or not _alive(state.pid):
            return HostHealth.DOWN
        return await probe_ready(state.info.base_url)

    def ready_at(self) -> float | None:
        """When the agent-server recorded for this host first answered, if it did."""
        state = self._state or self._read_state()
        return None if state is None else state.ready_at

    async def stop(self) -> None:
        await self.stop_if(None)

    async def stop_if(self, wanted: Callable[[], Awaitable[bool]] | None) -> bool:
        """Stop the agent-server if ``wanted()`` says so, asked while no start of it is under
        way (in this process or another): a start ends before the question is asked. Whether
        it was stopped."""
        async with self._lock, self._machine_lock():
            if wanted is not None and not await wanted():
                return False
            state = self._state or self._read_state()
            self._state = None
            if state is not None:
                await self._terminate(state.pid)
            self._state_path.unlink(missing_ok=True)
            if self._config.confinement is not None:
                await asyncio.to_thread(remove_pids_cgroup, self.cgroup_key)
            return True

    async def aclose(self) -> None:
        self._state = None

    @property
    def _state_path(self) -> Path:
        return self._dir / _STATE_FILE

    def _read_state(self) -> _State | None:
        try:
            raw = json.loads(self._state_path.read_text())
            return _State(**raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            self._state_path.unlink(missing_ok=True)
            return None

    async def _adopt(self, state: _State) -> bool:
        """A recorded process that still runs the agent-server and takes its key."""
        if not (_alive(state.pid) and _is_agent_server(state.pid)):
            return False
        if state.version != AGENT_SERVER_VERSION:
            return False
        try:
            await self._wait_ready(state)
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(
                    f"{state.info.base_url}/api/conversations/count",
                    headers={"X-Session-API-Key": state.session_key},
                )
        except (DependencyUnavailableError, httpx.HTTPError):
            return False
        return response.status_code == 200

    def _secret_key(self) -> str:
        path = self._dir / _SECRET_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            secret = secrets.token_urlsafe(32)
            _write_private(path, secret)
            return secret

    def _environment(self, session_key: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_ENV)}
        env.update(self._config.extra_env)
        state = self._config.state_dir
        workspaces = self._config.workspaces
        env.update(
            {
                "OH_SESSION_API_KEYS_0": session_key,
                "OH_SECRET_KEY": self._secret_key(),
                "OH_ENABLE_VSCODE": "0",
                "OH_ENABLE_VNC": "0",
                "OH_PRELOAD_TOOLS": "0",
                "OH_CONVERSATIONS_PATH": str(state / "conversations"),
                "OH_WORKSPACE_PATH": str(
                    state / "workspace" if workspaces is None else workspaces[1]
                ),
                "OH_BASH_EVENTS_DIR": str(state / "bash_events"),
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                # One agent-server per state directory (this host's node lock sees to it), so
                # its own conversation leases guard against nothing, and they do harm: one
                # started again in a fresh sandbox has the same pid in its new PID namespace
                # as the one before, takes a lease left by a hard stop for a live owner's and
                # refuses the conversation as unknown until the lease runs out (45 s).
                "OH_LEASE_TTL_SECONDS": "0",
            }
        )
        return env

    def _command(self, port: int) -> list[str]:
        """The agent-server's command line, inside its sandbox when it has one."""
        venv = self._config.venv
        command = [
            str(venv_python(venv)),
            "-m",
            "openhands.agent_server",
            "--host",
            self._config.listen,
            "--port",
            str(port),
        ]
        confinement = self._config.confinement
        if confinement is None:
            return command
        workspaces = self._config.workspaces
        if workspaces is None:
            raise ValueError("a confined agent-server needs its workspaces directory")
        state = self._config.state_dir
        for directory in (state / "home", workspaces[0]):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        wrapped = confinement.wrap(
            command, state=state, workspaces=workspaces, readable=interpreter_dirs(venv)
        )
        limit = confinement.limits.processes
        if limit is not None and os.geteuid() == 0:  # root is exempt from RLIMIT_NPROC
            procs = pids_cgroup(self.cgroup_key, limit)
            if procs is not None:
                return in_pids_cgroup(procs, wrapped)
            _log.warning(
                "sandbox %s: no pids cgroup to hold it to %d processes (run the server as "
                "another user than root to have the limit enforced)",
                self._dir.name,
                limit,
            )
        return wrapped

    @property
    def cgroup_key(self) -> str:
        """This host's pids cgroup: one per data directory, whatever the sandbox's name."""
        return hashlib.sha256(str(self._dir.absolute()).encode()).hexdigest()[:24]

    async def _spawn(self) -> _State:
        self.check_environment()
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        port = _free_port(self._config.listen)
        session_key = secrets.token_urlsafe(32)
        command = self._command(port)
        env = self._environment(session_key)
        pid = await asyncio.to_thread(self._launch, command, env)
        state = _State(
            pid=pid,
            port=port,
            session_key=session_key,
            version=AGENT_SERVER_VERSION,
            started_at=time.time(),
            host=self._config.connect_host,
        )
        _write_private(self._state_path, json.dumps(asdict(state)))
        try:
            await self._wait_ready(state)
        except DependencyUnavailableError:
            await self._terminate(pid)
            self._state_path.unlink(missing_ok=True)
            raise
        state = replace(state, ready_at=time.time())
        _write_private(self._state_path, json.dumps(asdict(state)))
        return state

    def _launch(self, command: list[str], env: dict[str, str]) -> int:
        done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed command
            [sys.executable, "-c", _LAUNCHER, str(self.log_path), *command],
            cwd=self._dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0 or not done.stdout.strip().isdigit():
            raise DependencyUnavailableError(
                f"Could not start the agent-server: {done.stderr.strip()[-300:]}"
            )
        return int(done.stdout.strip())

    async def _wait_ready(self, state: _State) -> None:
        deadline = time.monotonic() + self._config.startup_timeout_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not _alive(state.pid):
                    raise DependencyUnavailableError(
                        f"The agent-server exited while starting; see {self.log_path}."
                    )
                try:
                    response = await client.get(f"{state.info.base_url}/ready")
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise DependencyUnavailableError(
            f"The agent-server was not ready after {self._config.startup_timeout_s:.0f} s; "
            f"see {self.log_path}."
        )

    async def _terminate(self, pid: int) -> None:
        """SIGTERM to the agent-server and what it started (in a sandbox, to every process
        inside), SIGKILL to what is left after the grace period."""
        if not (_alive(pid) and _is_agent_server(pid)):
            return
        signal_tree(pid, signal.SIGTERM)
        deadline = time.monotonic() + self._config.stop_timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            await asyncio.sleep(0.1)
        if _alive(pid):
            signal_tree(pid, signal.SIGKILL)


class LocalProcessEnvironmentProbe(DependencyProbe):
    """Readiness of the local runtime: its virtualenv is complete, being built (``preparing``,
    which keeps the server ready) or failed to build (the reason is the error)."""

    name = "runtime"

    def __init__(self, host: LocalProcessHost) -> None:
        self._host = host

    async def check(self) -> None:
        self._host.check_environment()
