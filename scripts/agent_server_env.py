"""Create the OpenHands agent-server's own virtualenv with the pinned release.

Idempotent: a marker in the virtualenv records the installed release, and a matching one makes
this a no-op. The virtualenv is ``--venv``, else ``MAESTRIST_AGENT_SERVER_VENV``, else
``.venv-agent-server`` in the project; the interpreter that builds it is ``--python``, else
``MAESTRIST_AGENT_SERVER_PYTHON``, else the first Python 3.12 or newer that runs here.
``maestrist serve`` runs the same build in the background when the virtualenv is missing.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from adapters.openhands.agent_server_env import (
    AGENT_SERVER_VERSION,
    BuildFailedError,
    build,
    is_ready,
)

ROOT = Path(__file__).resolve().parent.parent


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
    started = time.monotonic()
    python = args.python or os.environ.get("MAESTRIST_AGENT_SERVER_PYTHON")
    try:
        build(venv, python=python, progress=sys.stdout)
    except BuildFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    took = time.monotonic() - started
    print(f"agent-server {AGENT_SERVER_VERSION} ready in {venv} ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
