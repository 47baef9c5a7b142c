"""Across processes sharing ``PROMETHEUS_MULTIPROC_DIR``, as a server's workers do: counters
add up over every process, live or gone; open websockets count only for processes alive."""

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

RECORD = """
import sys
from pathlib import Path
from adapters.prometheus import PrometheusMetrics

sut = PrometheusMetrics(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    sut.http_request("GET", "/health/ready", 200, 0.01)
sut.websocket_opened()
ending = sys.argv[3]
if ending == "retire":
    sut.retire()
elif ending == "stay":
    print("ready", flush=True)
    sys.stdin.read()
"""

RENDER = """
import sys
from pathlib import Path
from adapters.prometheus import PrometheusMetrics

sys.stdout.write(PrometheusMetrics(Path(sys.argv[1])).render().body.decode())
"""


def _env(directory: Path) -> dict[str, str]:
    return {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}


def _run(directory: Path, code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, str(directory), *args],
        env=_env(directory),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _read(directory: Path) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(_run(directory, RENDER))
        for sample in family.samples
        if sample.name in {"maestrist_http_requests_total", "maestrist_websockets_open"}
    }


def test_counters_add_up_over_every_process_and_open_sockets_over_the_live_ones(
    tmp_path: Path,
) -> None:
    _run(tmp_path, RECORD, "3", "retire")  # a worker that stopped
    _run(tmp_path, RECORD, "2", "die")  # one that ended without a word
    staying = subprocess.Popen(
        [sys.executable, "-c", RECORD, str(tmp_path), "4", "stay"],
        env=_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert staying.stdout is not None
        assert staying.stdout.readline() == "ready\n"

        assert _read(tmp_path) == {
            "maestrist_http_requests_total": 9,
            "maestrist_websockets_open": 1,
        }
    finally:
        staying.kill()
        staying.communicate()

    assert _read(tmp_path) == {"maestrist_http_requests_total": 9, "maestrist_websockets_open": 0}
