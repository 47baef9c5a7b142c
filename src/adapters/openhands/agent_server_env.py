"""The agent-server's own virtualenv: the pinned release, the interpreter that builds it, the
marker that says it is complete, and the build itself, which a server runs in the background
while it serves (``python -m adapters.openhands.build_agent_server_env``). Standard library
only, so the setup script can use it."""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

__all__ = (
    "AGENT_SERVER_PACKAGES",
    "AGENT_SERVER_VERSION",
    "CONSTRAINTS",
    "MIN_PYTHON",
    "BuildFailedError",
    "EnvironmentState",
    "EnvironmentStatus",
    "NoInterpreterError",
    "build",
    "environment_status",
    "find_interpreter",
    "interpreter_version",
    "is_ready",
    "marker_path",
    "process_alive",
    "venv_python",
    "write_status",
)

AGENT_SERVER_VERSION = "1.58.0"
"""The ``openhands-agent-server`` release the adapter is written and contract-tested against."""

AGENT_SERVER_PACKAGES = (
    f"openhands-agent-server=={AGENT_SERVER_VERSION}",
    f"openhands-sdk=={AGENT_SERVER_VERSION}",
    f"openhands-tools=={AGENT_SERVER_VERSION}",
)

MIN_PYTHON = (3, 12)

CONSTRAINTS = Path(__file__).with_name("agent_server_constraints.txt")
"""Every package of the virtualenv pinned, so that a build installs what was tested."""

_MARKER = ".maestrist-agent-server"
_CANDIDATES = ("python3.13", "python3.12", "python3")


class NoInterpreterError(RuntimeError):
    """No Python 3.12 or newer runs on this machine; the message says what to install."""


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def marker_path(venv: Path) -> Path:
    return venv / _MARKER


def is_ready(venv: Path) -> bool:
    """Whether ``venv`` holds a complete install of the pinned release."""
    marker = marker_path(venv)
    return (
        venv_python(venv).exists()
        and marker.exists()
        and marker.read_text().strip() == AGENT_SERVER_VERSION
    )


def interpreter_version(python: str | Path) -> tuple[int, int] | None:
    """The version ``python`` reports when actually run, or None when it does not run."""
    try:
        done = subprocess.run(  # noqa: S603 - the candidate is a path we chose or were given
            [str(python), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        major, minor = (int(part) for part in done.stdout.split())
    except ValueError:
        return None
    return major, minor


def _pyenv_interpreters(environ: Mapping[str, str]) -> Iterable[Path]:
    roots = [environ.get("PYENV_ROOT")]
    pyenv = shutil.which("pyenv", path=environ.get("PATH"))
    if pyenv:
        try:
            done = subprocess.run(  # noqa: S603
                [pyenv, "root"], capture_output=True, text=True, timeout=20, check=False
            )
            roots.append(done.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    if environ.get("HOME"):
        roots.append(str(Path(environ["HOME"]) / ".pyenv"))
    seen: set[Path] = set()
    for root in roots:
        if not root or Path(root) in seen:
            continue
        seen.add(Path(root))
        found = (Path(root) / "versions").glob("*/bin/python3")
        yield from sorted(found, key=_version_key, reverse=True)


def _version_key(python: Path) -> tuple[int, ...]:
    name = python.parent.parent.name
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def find_interpreter(
    configured: str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """A Python >= 3.12 that runs: ``configured`` if given (it must qualify), else the first of
    ``python3.13``, ``python3.12``, ``python3`` on PATH, else one installed under pyenv, tried
    directly because pyenv's shims refuse versions that are not enabled."""
    env = os.environ if environ is None else environ
    wanted = ".".join(map(str, MIN_PYTHON))
    if configured:
        version = interpreter_version(configured)
        if version is None or version < MIN_PYTHON:
            found = "does not run" if version is None else f"is {version[0]}.{version[1]}"
            raise NoInterpreterError(
                f"MAESTRIST_AGENT_SERVER_PYTHON={configured} {found}; the OpenHands "
                f"agent-server needs Python {wanted} or newer."
            )
        return Path(configured)
    candidates: list[Path] = []
    for name in _CANDIDATES:
        found_path = shutil.which(name, path=env.get("PATH"))
        if found_path:
            candidates.append(Path(found_path))
    candidates.extend(_pyenv_interpreters(env))
    for candidate in candidates:
        version = interpreter_version(candidate)
        if version is not None and version >= MIN_PYTHON:
            return candidate
    raise NoInterpreterError(
        f"The OpenHands agent-server needs Python {wanted} or newer and none runs here. "
        f"Install one (`apt-get install python3.12`, `brew install python@3.12` or "
        f"`pyenv install 3.12`) or point MAESTRIST_AGENT_SERVER_PYTHON at it."
    )


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class EnvironmentState(StrEnum):
    READY = "ready"
    PREPARING = "preparing"
    FAILED = "failed"
    MISSING = "missing"
    """Not built, and no build was started."""


@dataclass(frozen=True, slots=True)
class EnvironmentStatus:
    state: EnvironmentState
    detail: str | None = None


class BuildFailedError(RuntimeError):
    """A step of the build failed; the message says which and why, in one line."""


def environment_status(venv: Path, status_file: Path) -> EnvironmentStatus:
    """Where the virtualenv stands, from the virtualenv itself and the status file a build
    keeps while it works (``building``, with its pid) or leaves when it failed."""
    if is_ready(venv):
        return EnvironmentStatus(EnvironmentState.READY)
    try:
        record = json.loads(status_file.read_text())
        state, pid, reason = record["state"], int(record["pid"]), str(record.get("reason") or "")
        recorded_venv, version = Path(record["venv"]), record["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return EnvironmentStatus(EnvironmentState.MISSING)
    if recorded_venv != venv.absolute() or version != AGENT_SERVER_VERSION:
        return EnvironmentStatus(EnvironmentState.MISSING)
    if state == "failed":
        return EnvironmentStatus(EnvironmentState.FAILED, reason)
    if process_alive(pid):
        return EnvironmentStatus(EnvironmentState.PREPARING)
    log = record.get("log")
    return EnvironmentStatus(
        EnvironmentState.FAILED,
        "the build stopped before it finished" + (f"; see {log}" if log else ""),
    )


def write_status(status_file: Path, venv: Path, log: Path | None, **fields: object) -> None:
    """Record what this process's build of ``venv`` is at (``state``, ``reason``) for
    ``environment_status``; replaced whole, so a reader never sees half of it."""
    record = {
        "venv": str(venv.absolute()),
        "version": AGENT_SERVER_VERSION,
        "pid": os.getpid(),
        "log": None if log is None else str(log),
        **fields,
    }
    partial = status_file.with_name(status_file.name + ".partial")
    partial.write_text(json.dumps(record))
    partial.replace(status_file)


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One build of a virtualenv at a time; a second waits for the first, then finds it done."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _last_line(log: Path | None) -> str:
    if log is None:
        return ""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - 4096))
            lines = handle.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""


def _run(step: str, command: list[str], output: IO[bytes] | None, log: Path | None) -> None:
    done = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if done.returncode != 0:
        said = _last_line(log)
        raise BuildFailedError(
            f"{step} failed with exit code {done.returncode}" + (f": {said}" if said else "")
        )


def build(
    venv: Path,
    *,
    python: str | None = None,
    status_file: Path | None = None,
    log: Path | None = None,
    progress: IO[str] | None = None,
) -> None:
    """Create ``venv`` with the pinned release unless it is complete already. Step output goes
    to ``log`` (else to this process's own output); ``progress`` gets one line a step. While it
    works, ``status_file`` says so, and says why when it failed. Raises ``BuildFailedError``."""

    def say(line: str) -> None:
        if progress is not None:
            progress.write(line + "\n")
            progress.flush()

    venv = venv.absolute()
    lock = venv.with_name(venv.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    if status_file is not None:
        write_status(status_file, venv, log, state="building")
    with _build_lock(lock):
        if is_ready(venv):
            if status_file is not None:
                status_file.unlink(missing_ok=True)
            return
        if status_file is not None:
            write_status(status_file, venv, log, state="building")
        output = None if log is None else log.open("ab")
        try:
            _build_steps(venv, python, output, log, say)
        except (BuildFailedError, NoInterpreterError, OSError) as exc:
            if status_file is not None:
                write_status(status_file, venv, log, state="failed", reason=str(exc))
            raise BuildFailedError(str(exc)) from exc
        finally:
            if output is not None:
                output.close()
        marker_path(venv).write_text(AGENT_SERVER_VERSION + "\n")
        if status_file is not None:
            status_file.unlink(missing_ok=True)


def _build_steps(
    venv: Path,
    configured: str | None,
    output: IO[bytes] | None,
    log: Path | None,
    say: Callable[[str], None],
) -> None:
    python = find_interpreter(configured)
    say(f"[1/3] creating {venv} with {python}")
    if venv.exists():
        if not (venv / "pyvenv.cfg").exists():
            raise BuildFailedError(f"{venv} exists and is not a virtualenv; pick another path")
        shutil.rmtree(venv)
    _run("creating the virtualenv", [str(python), "-m", "venv", str(venv)], output, log)
    pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check"]
    say("[2/3] upgrading pip")
    _run("upgrading pip", [*pip, "install", "--quiet", "--upgrade", "pip"], output, log)
    say(f"[3/3] installing {', '.join(AGENT_SERVER_PACKAGES)} (about 200 packages)")
    constraints = ["--constraint", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
    progress_bar = ["--progress-bar", "off" if output is not None else "on"]
    install = [*pip, "install", *progress_bar, *constraints, *AGENT_SERVER_PACKAGES]
    _run("installing the agent-server", install, output, log)
