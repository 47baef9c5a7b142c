"""Walls around an agent-server process: bubblewrap namespaces with only the sandbox's own
directories writable, and resource limits on every process inside.

Inside, the agent sees the operating system read-only (``/usr``, ``/etc``), the agent-server's
virtualenv and the Python it was built from read-only, a private ``/tmp``, its own ``/proc`` of
its own PID namespace, and two writable directories: its state (the agent-server's records,
its home) and its tenant's workspaces, mounted where the server expects workspaces to be. Not
the server's data directory, its keys, other sandboxes or other tenants' workspaces: they are
simply not there. The network namespace is shared, so the agent-server listens on loopback as
an unconfined one does and reaches the LLM and our git-token route.
"""

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from application.errors import DependencyUnavailableError

__all__ = (
    "Bubblewrap",
    "SandboxLimits",
    "bubblewrap",
    "in_pids_cgroup",
    "pids_cgroup",
    "pids_group",
    "process_tree",
    "remove_pids_cgroup",
    "signal_tree",
)

_SYSTEM_READ_ONLY = ("/usr", "/etc")
_SYSTEM_LINKS = (("usr/bin", "/bin"), ("usr/sbin", "/sbin"), ("usr/lib", "/lib"))
_OPTIONAL_LINKS = (("usr/lib64", "/lib64"), ("usr/lib32", "/lib32"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxLimits:
    """Per-process resource limits inside a sandbox (None: no limit)."""

    memory_bytes: int | None = None
    """Address space of each process (``RLIMIT_AS``)."""
    processes: int | None = None
    """Processes and threads of the sandbox's user (``RLIMIT_NPROC``, counted per sandbox
    since each has its own user namespace). The kernel does not hold root to it, so a server
    run as root also puts each sandbox in a pids cgroup of its own with this limit, where the
    machine has a pids hierarchy it may write (``pids_cgroup``)."""
    cpu_seconds: int | None = None
    """CPU time of each process (``RLIMIT_CPU``): a runaway command is killed; the
    agent-server itself, if it ever reaches it, restarts on next use with its conversations."""

    def prlimit(self) -> list[str]:
        """The ``prlimit`` command line that sets these limits (empty for none)."""
        flags = [
            f"--{name}={value}"
            for name, value in (
                ("as", self.memory_bytes),
                ("nproc", self.processes),
                ("cpu", self.cpu_seconds),
            )
            if value is not None
        ]
        if not flags:
            return []
        tool = shutil.which("prlimit")
        if tool is None:
            raise DependencyUnavailableError(
                "Sandbox limits need prlimit (Debian package util-linux), which is missing."
            )
        return [tool, *flags, "--"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bubblewrap:
    """How to confine a command with bubblewrap (``bwrap``)."""

    executable: str
    limits: SandboxLimits

    def wrap(
        self,
        command: Sequence[str],
        *,
        state: Path,
        workspaces: tuple[Path, Path],
        readable: Sequence[Path],
    ) -> list[str]:
        """``command`` run inside a new sandbox: ``state`` writable at its own path, the
        workspaces directory ``workspaces[0]`` writable at ``workspaces[1]``, ``readable``
        read-only, and the system read-only."""
        wrapped = [
            self.executable,
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--hostname",
            "sandbox",
        ]
        for path in _SYSTEM_READ_ONLY:
            wrapped += ["--ro-bind", path, path]
        for target, link in _SYSTEM_LINKS:
            wrapped += _link(target, link)
        for target, link in _OPTIONAL_LINKS:
            if Path(link).exists():
                wrapped += _link(target, link)
        # /tmp first: the directories bound below may live under it.
        wrapped += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108
        for directory in readable:
            wrapped += ["--ro-bind", str(directory), str(directory)]
        wrapped += ["--bind", str(state), str(state)]
        wrapped += ["--bind", str(workspaces[0]), str(workspaces[1])]
        wrapped += ["--setenv", "HOME", str(state / "home"), "--chdir", str(state)]
        return [*self.limits.prlimit(), *wrapped, "--", *command]


def _link(target: str, link: str) -> list[str]:
    """A symlink as the host has it (merged /usr), or the real directory bound read-only."""
    if Path(link).is_symlink():
        return ["--symlink", target, link]
    return ["--ro-bind", link, link]


def bubblewrap(limits: SandboxLimits) -> Bubblewrap:
    """Bubblewrap with ``limits``; raises, saying what to install, when it is missing."""
    executable = shutil.which("bwrap")
    if executable is None:
        raise DependencyUnavailableError(
            "Sandboxes need bubblewrap (`bwrap`, Debian package bubblewrap), which is not "
            "installed: install it, or set MAESTRIST_SANDBOX=off to run every agent in one "
            "shared process."
        )
    return Bubblewrap(executable=executable, limits=limits)


_CGROUPS = Path("/sys/fs/cgroup")
_SANDBOX_CGROUPS = "maestrist-sandboxes"


def pids_group(key: str) -> Path | None:
    """Where the pids cgroup named ``key`` goes: below this process's own cgroup in the
    cgroup v1 pids hierarchy; None without one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, own = line.split(":", 2)
        if "pids" in controllers.split(","):
            return _CGROUPS / "pids" / own.lstrip("/") / _SANDBOX_CGROUPS / key
    return None


def pids_cgroup(key: str, limit: int) -> Path | None:
    """The ``cgroup.procs`` of a pids cgroup named ``key`` holding everything that joins it
    to ``limit`` tasks (processes and threads together), made or updated; None where this
    process may make none (not root, or no cgroup v1 pids hierarchy: cgroup v2 machines keep
    ``RLIMIT_NPROC`` alone, which holds for servers not run as root)."""
    group = pids_group(key)
    if group is None:
        return None
    try:
        group.mkdir(parents=True, exist_ok=True)
        (group / "pids.max").write_text(str(limit))
    except OSError:
        return None
    return group / "cgroup.procs"


def remove_pids_cgroup(key: str, *, wait_s: float = 2.0) -> None:
    """Kill whatever is still in the pids cgroup ``key`` (a stopped sandbox leaves nothing
    running behind) and remove it once its members are gone, ``wait_s`` at most."""
    group = pids_group(key)
    if group is None or not group.exists():
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            members = (group / "cgroup.procs").read_text().split()
        except OSError:
            return
        for member in members:
            with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                os.kill(int(member), signal.SIGKILL)
        try:
            group.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        else:
            return


def in_pids_cgroup(procs: Path, command: Sequence[str]) -> list[str]:
    """``command`` run from inside the cgroup whose ``cgroup.procs`` is ``procs``: the shell
    that starts it joins first, so every process it starts is counted."""
    return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(procs), *command]


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants as ``/proc`` shows them now, parents first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree = [pid]
    for member in tree:
        tree.extend(children.get(member, ()))
    return tree


def signal_tree(pid: int, signum: signal.Signals) -> None:
    """Send ``signum`` to ``pid`` and every descendant (a sandbox's init ignores what it has no
    handler for, so its members are told one by one)."""
    for member in process_tree(pid):
        try:
            os.kill(member, signum)
        except (ProcessLookupError, PermissionError):
            continue
