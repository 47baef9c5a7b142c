"""Installing a test-support folder's npm packages from its lockfile, on demand.

A folder under ``tests/support/`` with a ``package.json`` that pins every dependency to one
exact version and a ``package-lock.json`` is installed with ``npm ci`` the first time a test
needs it, and again whenever a pinned version is not the one installed. A file lock keeps two
pytest-xdist workers (or two test runs) from installing it at once.
"""

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

__all__ = ("NpmInstallError", "ensure_npm_packages")

NPM_CI_TIMEOUT_S = 600.0


class NpmInstallError(RuntimeError):
    """npm is missing, or ``npm ci`` failed or left other versions than the pinned ones."""


def _pinned(folder: Path) -> dict[str, str]:
    package = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    pins = package.get("dependencies", {})
    assert isinstance(pins, dict)
    return {str(name): str(version) for name, version in pins.items()}


def _installed(folder: Path, name: str) -> str | None:
    manifest = folder / "node_modules" / name / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def _complete(folder: Path) -> bool:
    return all(_installed(folder, name) == version for name, version in _pinned(folder).items())


def ensure_npm_packages(folder: Path, *, purpose: str) -> None:
    """Install ``folder``'s npm packages from its lockfile unless the pinned ones are there.

    ``purpose`` says in an error what the packages are for.
    """
    if _complete(folder):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise NpmInstallError(f"npm (Node.js) is needed to install {purpose}")
    with (folder / ".install.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _complete(folder):
                return  # another worker installed them while we waited
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT_S,
                check=False,
            )
            if result.returncode != 0 or not _complete(folder):
                raise NpmInstallError(
                    f"npm ci in {folder} for {purpose} failed ({result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}"
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
