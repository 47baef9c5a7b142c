"""One confined agent-server per sandbox (an organization's or a person's), on this node.

Each sandbox is a ``LocalProcessHost`` of its own under ``root/<name>``: its own process in
bubblewrap, its own session key and secret key, its own state, and its tenant's workspaces,
which the agent sees where the server puts workspaces. Where each conversation runs is written
to ``root/placements/<conversation id>`` before it starts, so every worker of this node finds
it. A sandbox starts on the first call that needs it, and is stopped when it has been idle
(no call for ``idle_s``, every conversation in it ended) or when room is needed for another and
it is the longest idle; its conversations are kept on disk and resume when it starts again.
The ingest lets go of an ended conversation after a few quiet seconds, far less than any idle
time worth setting, so no event stream holds an idle sandbox.
"""

import asyncio
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.openhands.confinement import Bubblewrap, SandboxLimits, bubblewrap
from adapters.openhands.local_host import LocalProcessConfig, LocalProcessHost, node_lock
from application.errors import DependencyUnavailableError
from application.ports.conversation_runtime import RuntimeHost
from application.ports.dependency_probe import DependencyProbe
from application.tasks import cancel_and_wait
from domain.conversations.value_objects import ConversationId, HostHealth, HostInfo
from domain.shared.errors import InvalidValueError

__all__ = ("SandboxHost", "SandboxPool", "SandboxPoolConfig", "SandboxProbe")

_log = logging.getLogger(__name__)

_NAME = re.compile(r"(?:org|user)-[a-z0-9-]{1,76}")
"""A sandbox's name: whose it is (``org-`` or ``user-``) and who; never ``placements``."""
_PLACEMENTS = "placements"
_LOCK = "pool.lock"
_LAST_USED = "last-used"
_NOT_ENDED = ("running", "idle", "paused", "waiting_for_confirmation")
"""The agent-server's statuses of a conversation that has not ended."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxPoolConfig:
    venv: Path
    root: Path
    """Where the sandboxes and the placements live (not inside any sandbox)."""
    workspace_root: Path
    """Where the server puts conversations' workspaces; each sandbox sees its own there."""
    limits: SandboxLimits
    environment_status: Path
    """Where the build of the agent-server's virtualenv says how it goes."""
    idle_s: float | None = None
    """None: a sandbox is never stopped for idleness."""
    max_running: int | None = None
    """None: no cap on the sandboxes running at once."""
    startup_timeout_s: float = 90.0
    listen: str = "127.0.0.1"
    """The address the sandboxes' agent-servers listen on."""


class SandboxPool:
    def __init__(self, config: SandboxPoolConfig) -> None:
        self._config = config
        self._hosts: dict[str, SandboxHost] = {}
        self._room = asyncio.Lock()
        self._confinement: Bubblewrap | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._placed: dict[ConversationId, str] = {}
        """Placements read or made here: one never changes, so each is read from disk once."""

    def confinement(self) -> Bubblewrap:
        """Bubblewrap with the limits; raises, saying what to install, when it is missing."""
        if self._confinement is None:
            self._confinement = bubblewrap(self._config.limits)
        return self._confinement

    @property
    def config(self) -> SandboxPoolConfig:
        return self._config

    def host(self, name: str) -> "SandboxHost":
        """The sandbox called ``name`` (started by its first use)."""
        if not _NAME.fullmatch(name):
            raise InvalidValueError(f"{name!r} is not a sandbox name.", field="sandbox")
        host = self._hosts.get(name)
        if host is None:
            config = self._config
            directory = config.root / name
            inner = LocalProcessHost(
                LocalProcessConfig(
                    venv=config.venv,
                    data_dir=directory,
                    startup_timeout_s=config.startup_timeout_s,
                    environment_status=config.environment_status,
                    # what stops or reads a sandbox works without bubblewrap; starting
                    # one checks that it is there (``ensure_running``)
                    confinement=Bubblewrap(executable="bwrap", limits=config.limits),
                    workspaces=(directory / "workspaces", config.workspace_root),
                    listen=config.listen,
                )
            )
            host = self._hosts[name] = SandboxHost(self, name, inner)
        return host

    def check(self) -> None:
        """Raise what starting a sandbox would meet: bubblewrap or the virtualenv missing."""
        self.confinement()
        config = self._config
        LocalProcessHost(
            LocalProcessConfig(
                venv=config.venv,
                data_dir=config.root,
                environment_status=config.environment_status,
            )
        ).check_environment()

    # Placements

    def _placement(self, conversation_id: ConversationId) -> Path:
        return self._config.root / _PLACEMENTS / str(conversation_id)

    def place(self, conversation_id: ConversationId, name: str) -> None:
        """Record that ``conversation_id`` runs in sandbox ``name`` (before it starts there)."""
        self.host(name)  # checks the name
        path = self._placement(conversation_id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".partial")
        partial.write_text(name)
        partial.replace(path)
        self._placed[conversation_id] = name

    def placed(self, conversation_id: ConversationId) -> str | None:
        """The sandbox ``conversation_id`` runs in; None for one started outside every one (or
        not placed yet: that is read again next time)."""
        name = self._placed.get(conversation_id)
        if name is None:
            try:
                name = self._placement(conversation_id).read_text().strip() or None
            except (FileNotFoundError, NotADirectoryError):
                return None
            if name is not None:
                self._placed[conversation_id] = name
        return name

    def forget(self, conversation_id: ConversationId) -> None:
        self._placed.pop(conversation_id, None)
        self._placement(conversation_id).unlink(missing_ok=True)

    # Room and idleness

    def names(self) -> list[str]:
        """Every sandbox this node has made, running or not."""
        try:
            entries = list(self._config.root.iterdir())
        except FileNotFoundError:
            return []
        return sorted(e.name for e in entries if e.is_dir() and _NAME.fullmatch(e.name))

    def last_used(self, name: str) -> float:
        """When sandbox ``name`` was last used, or came up if later (a start that took longer
        than the idle time is not idle on arrival)."""
        try:
            touched = (self._config.root / name / _LAST_USED).stat().st_mtime
        except FileNotFoundError:
            touched = 0.0
        return max(touched, self.host(name).inner.ready_at() or 0.0)

    def touch(self, name: str) -> None:
        path = self._config.root / name / _LAST_USED
        try:
            os.utime(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch()

    def _running(self) -> list[str]:
        return [name for name in self.names() if self.host(name).is_running()]

    async def make_room(self, name: str) -> None:
        """Before sandbox ``name`` starts: stop the longest-idle sandbox when this node runs
        ``max_running`` already; refuse when every one has a conversation not ended."""
        cap = self._config.max_running
        if cap is None:
            return
        async with self._room, node_lock(self._config.root / _LOCK):
            running = [other for other in self._running() if other != name]
            if len(running) < cap:
                return
            for other in sorted(running, key=self.last_used):
                if await self.host(other).stop_unless_busy():
                    return
            raise DependencyUnavailableError(
                f"Every sandbox of this server is at work ({cap} at "
                f"most); try again when one of them is done."
            )

    async def reap(self, now: float | None = None) -> list[str]:
        """Stop the sandboxes unused for ``idle_s`` whose conversations have all ended; their
        names."""
        idle_s = self._config.idle_s
        if idle_s is None:
            return []
        async with self._room, node_lock(self._config.root / _LOCK):
            return [
                name for name in self._running() if await self.host(name).stop_if_idle(idle_s, now)
            ]

    def keep_reaping(self) -> None:
        """Stop idle sandboxes in the background, checking every quarter of the idle time (at
        most every minute), until ``aclose``; nothing to do without an idle time."""
        if self._reaper is None and self._config.idle_s is not None:
            self._reaper = asyncio.create_task(self._reap_forever(), name="sandbox-reaper")

    async def _reap_forever(self) -> None:
        assert self._config.idle_s is not None
        interval = max(0.5, min(60.0, self._config.idle_s / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                stopped = await self.reap()
            except Exception:  # noqa: BLE001 - the next round tries again
                _log.exception("stopping idle sandboxes failed")
                continue
            for name in stopped:
                _log.info("sandbox %s stopped: idle", name)

    async def aclose(self) -> None:
        if self._reaper is not None:
            await cancel_and_wait(self._reaper)
            self._reaper = None
        for host in self._hosts.values():
            await host.aclose()
        self._hosts.clear()


class SandboxHost(RuntimeHost):
    """A sandbox's agent-server: started on demand after room is made for it, its use noted."""

    def __init__(self, pool: SandboxPool, name: str, inner: LocalProcessHost) -> None:
        self._pool = pool
        self.name = name
        self._inner = inner

    @property
    def inner(self) -> LocalProcessHost:
        return self._inner

    def is_running(self) -> bool:
        return self._inner.is_alive()

    async def ensure_running(self) -> HostInfo:
        self._pool.confinement()
        self._pool.touch(self.name)
        if self._inner.is_alive():
            return await self._inner.ensure_running()
        await self._pool.make_room(self.name)
        info = await self._inner.ensure_running()
        # Used from now: a start that took longer than the idle time is not idle on arrival.
        self._pool.touch(self.name)
        return info

    async def busy(self) -> bool:
        """Whether a conversation in it has not ended (working, paused, waiting for its user
        or for a confirmation), or it cannot say: then it is kept. An ended one is let go by
        the ingest once quiet, so nothing holds the sandbox for it."""
        info = self._inner.recorded()
        if info is None:
            return False
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                for status in _NOT_ENDED:
                    response = await client.get(
                        f"{info.base_url}/api/conversations/count",
                        params={"status": status},
                        headers={"X-Session-API-Key": info.session_key},
                    )
                    if response.status_code != 200 or int(response.text) > 0:
                        return True
        except (httpx.HTTPError, ValueError):
            return True
        return False

    async def stop_if_idle(self, idle_s: float, now: float | None = None) -> bool:
        """Stop it if unused for ``idle_s`` by ``now`` (the time when asked, by default) and
        not busy; asked once no start of it is under way, so one that took longer than
        ``idle_s`` is not stopped as it comes up. Whether it was stopped."""

        async def idle() -> bool:
            at = time.time() if now is None else now
            return at - self._pool.last_used(self.name) >= idle_s and not await self.busy()

        return await self._inner.stop_if(idle)

    async def stop_unless_busy(self) -> bool:
        """Stop it unless a conversation in it has not ended; whether it was stopped."""

        async def free() -> bool:
            return not await self.busy()

        return await self._inner.stop_if(free)

    async def health(self) -> HostHealth:
        return await self._inner.health()

    async def stop(self) -> None:
        await self._inner.stop()

    async def aclose(self) -> None:
        await self._inner.aclose()


class SandboxProbe(DependencyProbe):
    """Readiness of the sandboxed local runtime: bubblewrap installed, the virtualenv complete
    (or being built: ``preparing``)."""

    name = "runtime"

    def __init__(self, pool: SandboxPool) -> None:
        self._pool = pool

    async def check(self) -> None:
        self._pool.check()
