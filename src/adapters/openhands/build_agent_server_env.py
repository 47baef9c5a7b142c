"""The background build a server starts when the agent-server's virtualenv is missing:
``python -m adapters.openhands.build_agent_server_env --venv ... --status ... --log ...``.

It writes the status file, says "building" on stdout (the server waits for that line), then
builds and writes one line to stderr when it is done or failed.
"""

import argparse
import sys
import time
from pathlib import Path

from adapters.openhands.agent_server_env import BuildFailedError, build, write_status

__all__ = ("main",)


def main(argv: list[str] | None = None) -> int:
    """The background build a server starts: one line when done or failed, on stderr."""
    parser = argparse.ArgumentParser(description="Build the agent-server's virtualenv.")
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--python", default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    args.status.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_status(args.status, args.venv, args.log, state="building")
    sys.stdout.write("building\n")  # the server waits for this line: the status file is written
    sys.stdout.close()
    try:
        build(args.venv, python=args.python, status_file=args.status, log=args.log)
    except BuildFailedError as exc:
        sys.stderr.write(f"agent-server environment failed: {exc} (log: {args.log})\n")
        return 1
    took = time.monotonic() - started
    sys.stderr.write(f"agent-server environment ready in {args.venv} ({took:.0f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
