"""Install the project into the running virtualenv unless it is installed already as
pyproject.toml says: an editable install of this checkout with every pinned dependency.

A marker records the pyproject.toml last installed from; without one (the project was installed
by hand with pip, as the README's quick start does) the installed packages are checked instead,
so the first ``just`` command does not reinstall everything.
"""

import hashlib
import json
import subprocess
import sys
import tomllib
from importlib.metadata import Distribution, PackageNotFoundError, distributions, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKER = Path(sys.prefix) / ".maestrist-installed"


def _installed_from_here(found: Distribution) -> bool:
    """An editable install of this checkout (not the egg-info a build leaves in the tree)."""
    try:
        origin = json.loads(found.read_text("direct_url.json") or "{}")
    except ValueError:
        return False
    return origin.get("url") == ROOT.as_uri() and bool(origin.get("dir_info", {}).get("editable"))


def installed_as_declared(pyproject: dict[str, Any]) -> bool:
    """Whether this checkout is installed (editable) with each pinned dependency at its pin."""
    try:
        from packaging.requirements import Requirement  # noqa: PLC0415 - not there before install
    except ImportError:
        return False
    project = pyproject["project"]
    if not any(
        _installed_from_here(found) and found.version == project["version"]
        for found in distributions(name=project["name"])
    ):
        return False
    for pin in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(pin)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            found = version(requirement.name)
        except PackageNotFoundError:
            return False
        if not requirement.specifier.contains(found, prereleases=True):
            return False
    return True


def main() -> int:
    source = (ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    if MARKER.exists() and MARKER.read_text() == digest:
        return 0
    if not installed_as_declared(tomllib.loads(source.decode())):
        print("installing the project and its development tools into .venv", flush=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"]
        subprocess.run(command, check=True)
    MARKER.write_text(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
