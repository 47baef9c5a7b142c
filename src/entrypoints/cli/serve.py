"""``maestrist serve``: one server per data directory and port, the checks and the background
work before it listens, and granian with our limits and a shutdown no signal can wedge."""

import contextlib
import errno
import fcntl
import os
import select
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import granian._signals
from granian._granian import WorkerSignal
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import MPServer
from granian.server.mp import WorkerProcess

from entrypoints.settings import Binding, RuntimeKind, Settings
from entrypoints.settings.metrics import MULTIPROCESS_DIR_ENV

__all__ = ("SAME_SIGNAL_S", "ServerLock", "serve")

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_LOCK_FILE = "server.lock"

SAME_SIGNAL_S = 0.5
"""Signals this close to the first are the same request to stop: Ctrl-C in a terminal reaches
both ``just`` and the server, and ``just`` forwards it again."""


class AlreadyServingError(RuntimeError):
    """Another server holds the data directory or the port; the message says which."""


class ServerLock:
    """An exclusive lock on ``<data dir>/server.lock`` held for the server's life (its
    workers inherit it): a second embedded server on the same data would serve other data
    from memory and write over the first one's."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / _LOCK_FILE
        self._descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._descriptor, 32).decode(errors="replace").strip()
            os.close(self._descriptor)
            by = f" (pid {holder})" if holder.isdigit() else ""
            raise AlreadyServingError(
                f"another maestrist server{by} is serving the data directory {data_dir}; "
                f"stop it or set MAESTRIST_DATA_DIR to another directory"
            ) from None
        os.ftruncate(self._descriptor, 0)
        os.pwrite(self._descriptor, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        os.close(self._descriptor)


def _check_port_free(host: str, port: int) -> None:
    """Bind the address without SO_REUSEPORT: it fails while another server listens there,
    which granian's own SO_REUSEPORT socket would not notice (both would serve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise AlreadyServingError(f"MAESTRIST_HOST={host} does not resolve: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise AlreadyServingError(f"cannot listen on {host}:{port}: {exc}") from None
            raise AlreadyServingError(
                f"port {port} on {host} is already in use (another server?); stop it or set "
                f"MAESTRIST_PORT to a free port"
            ) from None


class _Wakeup:
    """``threading.Event`` as granian's main loop uses it, without a lock: ``set`` only
    stores a flag and writes a byte to a pipe, so a signal handler may call it at any moment,
    even while the interrupted code is inside ``set`` or ``wait``. (``threading.Event.set``
    from a handler that interrupted the same event's ``set`` waits for good on its own
    lock.)"""

    def __init__(self) -> None:
        self._flag = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"!")

    def clear(self) -> None:
        self._flag = False
        self._drain()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._flag:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            select.select([self._read], [], [], remaining)
            self._drain()
        return self._flag

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 512):
                pass


def _loop_signals_once(loop: Any) -> WorkerSignal:
    """granian's worker signal handling, except that only the first SIGINT or SIGTERM reaches
    the worker's shutdown signal: granian sets it on every one, and a second ``set`` while the
    first is being handled waits for good on the interpreter lock its own thread holds."""
    shutdown = WorkerSignal()
    fired = False

    def handle(*_args: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            shutdown.set()

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, handle, number, None)
    return shutdown


_granian_asgi_worker: Any = MPServer._spawn_asgi_lifespan_worker.__wrapped__  # noqa: SLF001 - unwrapped


def _asgi_worker_with_signals_once(*args: Any, **kwargs: Any) -> Any:
    """granian's ASGI worker (in the worker process) with ``_loop_signals_once``."""
    granian._signals.set_loop_signals = _loop_signals_once  # noqa: SLF001 - where it looks it up
    return _granian_asgi_worker(*args, **kwargs)


_granian_worker: Any = WorkerProcess.wrap_target(_asgi_worker_with_signals_once)  # type: ignore[no-untyped-call]

WORKER_NUMBER = "MAESTRIST_WORKER_NUMBER"


def _asgi_worker(worker_id: int, *args: Any, **kwargs: Any) -> Any:
    """A worker process, told its number (1, 2, ...) in ``MAESTRIST_WORKER_NUMBER`` before it
    loads the application: a worker restarted in its place gets the same one."""
    os.environ[WORKER_NUMBER] = str(worker_id)
    return _granian_worker(worker_id, *args, **kwargs)


class _Server(MPServer):
    """granian's server, whose signal handlers neither take locks nor wait: the first SIGINT
    or SIGTERM starts the graceful shutdown, a later one (after ``SAME_SIGNAL_S``) ends the
    workers and the server at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.main_loop_interrupt = _Wakeup()  # type: ignore[assignment]
        self._stop_requested_at: float | None = None

    def signal_handler_interrupt(self, *_args: Any, **_kwargs: Any) -> None:
        now = time.monotonic()
        if self._stop_requested_at is None:
            self._stop_requested_at = now
            for worker in self.wrks:  # signalled with us (the whole group), it exits on its own
                worker.interrupt_by_parent = True
            self.interrupt_signal = True
            self.main_loop_interrupt.set()
        elif now - self._stop_requested_at >= SAME_SIGNAL_S:
            self._stop_now()

    def shutdown(self, exit_code: int = 0) -> None:
        if self._stop_requested_at is not None:
            # A worker that saw the signal first and exited before us was stopping, not failing.
            self.interrupt_children.clear()
        super().shutdown(exit_code)  # type: ignore[no-untyped-call]

    def _stop_now(self) -> None:
        os.write(2, b"maestrist: signalled again while stopping; stopping at once\n")
        for worker in list(self.wrks):
            pid = worker.inner.pid
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        os._exit(1)


def _url(settings: Settings) -> str:
    host = f"[{settings.server.host}]" if ":" in settings.server.host else settings.server.host
    return f"http://{host}:{settings.server.port}"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _share_metrics(settings: Settings) -> Path:
    """An empty directory the workers count their metrics in (prometheus-client's
    multiprocess mode), one per port, so that a scrape of any worker adds up all of them and
    a restart starts from zero. Set before anything imports prometheus-client."""
    directory = settings.data_dir / "metrics" / str(settings.server.port)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROCESS_DIR_ENV] = str(directory)
    return directory


def _before_listening(settings: Settings) -> None:
    """What this process does before granian forks the workers. It imports neither the
    application nor the adapters: the workers load those, and each worker of the clustered
    binding says when the database schema is behind."""
    if settings.binding is Binding.EMBEDDED and settings.server.host not in _LOOPBACK:
        _say(
            f"warning: the embedded binding signs everyone in as the local user, and "
            f"MAESTRIST_HOST={settings.server.host} exposes it beyond this machine"
        )
    if settings.runtime.kind is not RuntimeKind.LOCAL:
        return
    # Only the local runtime builds anything: the adapters it needs stay out of this process
    # for the others.
    from entrypoints.ioc.serving import start_agent_server_env_build  # noqa: PLC0415

    build = start_agent_server_env_build(settings)
    if build is not None:
        _say(
            f"agent-server environment: building {build.venv} in the background; conversations "
            f"can start once it is ready, everything else works now (log: {build.log})"
        )


def serve(settings: Settings) -> None:
    """Run the server until SIGINT or SIGTERM. Exits with 1 when another server holds the
    data directory or the port."""
    try:
        lock = ServerLock(settings.data_dir) if settings.binding is Binding.EMBEDDED else None
        _check_port_free(settings.server.host, settings.server.port)
    except AlreadyServingError as exc:
        _say(f"error: {exc}")
        raise SystemExit(1) from None
    _share_metrics(settings)
    _before_listening(settings)
    _say(f"maestrist {settings.binding.value} server listening on {_url(settings)}")
    server = _Server(
        "entrypoints.asgi:app_from_env",
        factory=True,
        address=settings.server.host,
        port=settings.server.port,
        interface=Interfaces.ASGI,
        workers=settings.server.workers,
        backlog=settings.server.backlog,
        backpressure=settings.server.max_connections,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.server.keep_alive_timeout_s * 1000))
        ),
        log_enabled=False,
        workers_kill_timeout=max(1, round(settings.server.shutdown_timeout_s)),
    )
    server.serve(spawn_target=_asgi_worker)
    if lock is not None:
        lock.release()  # held until the workers are gone
