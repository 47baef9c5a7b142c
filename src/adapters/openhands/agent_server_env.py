"""The agent-server's own virtualenv: the pinned release, the interpreter that builds it and the
marker that says it is complete. Standard library only, so the setup script can use it."""

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = (
    "AGENT_SERVER_PACKAGES",
    "AGENT_SERVER_VERSION",
    "MIN_PYTHON",
    "NoInterpreterError",
    "find_interpreter",
    "interpreter_version",
    "is_ready",
    "marker_path",
    "venv_python",
)

AGENT_SERVER_VERSION = "1.58.0"
"""The ``openhands-agent-server`` release the adapter is written and contract-tested against."""

AGENT_SERVER_PACKAGES = (
    f"openhands-agent-server=={AGENT_SERVER_VERSION}",
    f"openhands-sdk=={AGENT_SERVER_VERSION}",
    f"openhands-tools=={AGENT_SERVER_VERSION}",
)

MIN_PYTHON = (3, 12)

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
