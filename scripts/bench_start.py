"""`just bench-start`: how long a conversation takes from its start to the agent's first event,
with its organization's sandbox already running (warm) and with none (cold).

One `maestrist serve` on the embedded binding with the local runtime (sandboxes per
organization, bubblewrap) and a stub LLM that answers at once, so every figure is ours and the
agent-server's, not the LLM's. Each round starts a conversation with a message and watches its
socket: the time from the request to its answer (201), and from the request to the agent's
first message. Cold rounds stop every sandbox first (`maestrist agent-server stop`); warm
rounds follow a round that left the sandbox running. It prints a Markdown report; the figures
go to docs/benchmarks.md.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from tests.e2e.test_server import ROOT, RunningServer, running_server, server_env
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm
from websockets.sync.client import connect

from adapters.scripted import Finish

VENV = ROOT / ".venv-agent-server"
WAIT_S = 120.0


def _agent_server(settings: dict[str, str], action: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", "agent-server", action],
        env=server_env(settings),
        capture_output=True,
        check=True,
        timeout=120,
    )


def _round(server: RunningServer, stub: StubLLM) -> tuple[float, float]:
    """Seconds from the start request to its answer, and to the agent's first act."""
    stub.script(Finish(message="done"))
    began = time.perf_counter()
    created = server.http.post("/api/conversations", json={"message": "Say done"})
    answered = time.perf_counter() - began
    if created.status_code != 201:
        raise SystemExit(f"start refused: {created.status_code} {created.text}")
    cid = created.json()["id"]
    url = server.base_url.replace("http://", "ws://") + f"/ws/conversations/{cid}?after=0"
    with connect(url, open_timeout=10, proxy=None) as socket:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            event = json.loads(socket.recv(timeout=WAIT_S)).get("event") or {}
            # the agent's first act on the LLM's answer (its system prompt comes at creation)
            if event.get("source") == "agent" and event.get("kind") != "SystemPromptEvent":
                return answered, time.perf_counter() - began
    raise SystemExit(f"no agent event within {WAIT_S:g} s")


def _row(name: str, samples: list[float]) -> str:
    return (
        f"| {name} | {len(samples)} | {statistics.median(samples):.2f} | {min(samples):.2f} "
        f"| {max(samples):.2f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="cold and warm rounds, each")
    args = parser.parse_args()
    if not (VENV / "bin" / "python").exists():
        raise SystemExit(f"{VENV} is missing: run `just agent-server-env`")
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    with TemporaryDirectory() as scratch, run_stub_llm() as stub:
        data = Path(scratch) / "data"
        settings = {
            "MAESTRIST_DATA_DIR": str(data),
            "MAESTRIST_RUNTIME": "local",
            "MAESTRIST_SANDBOX": "org",
            "MAESTRIST_AGENT_SERVER_VENV": str(VENV),
            "MAESTRIST_RATE_LIMIT_ENABLED": "false",  # one user at full speed, not the limits
        }
        try:
            with running_server(Path(scratch) / "server.log", settings) as server:
                server.http.timeout = WAIT_S
                llm = {"llmModel": MODEL, "llmApiKey": API_KEY, "llmBaseUrl": stub.base_url}
                configured = server.http.post("/api/settings", json=llm)
                if configured.status_code != 200:
                    raise SystemExit(f"settings refused: {configured.text}")
                for _ in range(args.rounds):
                    _agent_server(settings, "stop")
                    cold.append(_round(server, stub))
                    warm.append(_round(server, stub))
                server.stop()
        finally:
            _agent_server(settings, "stop")
    print(f"Start to the agent's first event, {args.rounds} rounds each (seconds):\n")
    print("| start | rounds | median | min | max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(_row("cold sandbox: start answered (201)", [a for a, _ in cold]))
    print(_row("cold sandbox: first agent event", [f for _, f in cold]))
    print(_row("warm sandbox: start answered (201)", [a for a, _ in warm]))
    print(_row("warm sandbox: first agent event", [f for _, f in warm]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
