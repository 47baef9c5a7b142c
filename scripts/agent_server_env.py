"""Create the OpenHands agent-server's own virtualenv with the pinned release.

Idempotent: a marker in the virtualenv records the installed release, and a matching one makes
this a no-op. The virtualenv is ``--venv``, else ``MAESTRIST_AGENT_SERVER_VENV``, else
``.venv-agent-server`` in the project; the interpreter that builds it is ``--python``, else
``MAESTRIST_AGENT_SERVER_PYTHON``, else the first Python 3.12 or newer that runs here.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from adapters.openhands.agent_server_env import (
    AGENT_SERVER_PACKAGES,
    AGENT_SERVER_VERSION,
    NoInterpreterError,
    find_interpreter,
    is_ready,
    marker_path,
    venv_python,
)

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "scripts" / "agent_server_constraints.txt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=None)
    parser.add_argument("--python", default=None)
    parser.add_argument("--quiet", action="store_true", help="print nothing when already done")
    args = parser.parse_args(argv)
    venv: Path = args.venv or Path(
        os.environ.get("MAESTRIST_AGENT_SERVER_VENV") or ROOT / ".venv-agent-server"
    )
    if is_ready(venv):
        if not args.quiet:
            print(f"agent-server {AGENT_SERVER_VERSION} is ready in {venv}")
        return 0
    try:
        python = find_interpreter(args.python or os.environ.get("MAESTRIST_AGENT_SERVER_PYTHON"))
    except NoInterpreterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    print(f"[1/3] creating {venv} with {python}", flush=True)
    if venv.exists():
        if not (venv / "pyvenv.cfg").exists():
            print(
                f"error: {venv} exists and is not a virtualenv; pick another path", file=sys.stderr
            )
            return 2
        shutil.rmtree(venv)
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check"]
    print("[2/3] upgrading pip", flush=True)
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    print(f"[3/3] installing {', '.join(AGENT_SERVER_PACKAGES)} (about 200 packages)", flush=True)
    constraints = ["--constraint", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
    install = [*pip, "install", "--progress-bar", "on", *constraints, *AGENT_SERVER_PACKAGES]
    subprocess.run(install, check=True)
    marker_path(venv).write_text(AGENT_SERVER_VERSION + "\n")
    took = time.monotonic() - started
    print(f"agent-server {AGENT_SERVER_VERSION} ready in {venv} ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
