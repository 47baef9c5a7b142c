"""``/metrics`` of a real ``maestrist serve`` with two workers: whichever worker answers a
scrape, it counts every worker's requests; the exposition passes ``promtool check metrics``;
the endpoint refuses a scrape without its token; a restart starts the counts from zero."""

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REDIS_URL
from tests.e2e.test_server import ROOT, RunningServer, clustered, running_server

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

TOKEN = "e2e-metrics-token-0123456789"
REQUESTS = 40


def _promtool() -> str:
    found = ROOT / ".tools" / "bin" / "promtool"
    if found.exists():
        return str(found)
    on_path = shutil.which("promtool")
    if on_path is None:
        pytest.fail("promtool is missing: run `just promtool` (just test does)")
    return on_path


def _scrape(server: RunningServer, token: str | None = TOKEN) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    # A connection of its own each time, so the kernel hands scrapes to either worker.
    return httpx.get(f"{server.base_url}/metrics", headers=headers, timeout=10, trust_env=False)


def _live_requests(body: str) -> float:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "maestrist_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/health/live",
                "status": "200",
            }:
                return sample.value
    return 0.0


def _workers_that_counted(directory: Path) -> set[str]:
    return {path.stem.rpartition("_")[2] for path in directory.glob("counter_*.db")}


def test_two_workers_add_up_pass_promtool_refuse_without_the_token_and_restart_at_zero(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_WORKERS": "2",
        "MAESTRIST_METRICS_TOKEN": TOKEN,
    }
    with running_server(tmp_path / "server.log", settings, until="/health/live") as server:
        shared = tmp_path / "data" / "metrics" / str(server.port)
        before = _live_requests(_scrape(server).text)  # the start-up wait's
        for _ in range(REQUESTS):
            answer = httpx.get(f"{server.base_url}/health/live", timeout=10, trust_env=False)
            assert answer.status_code == 200

        assert len(_workers_that_counted(shared)) == 2  # both workers answered some
        scrapes = [_scrape(server) for _ in range(6)]
        assert [s.status_code for s in scrapes] == [200] * 6
        assert {_live_requests(s.text) for s in scrapes} == {before + REQUESTS}

        checked = subprocess.run(
            [_promtool(), "check", "metrics"],
            input=scrapes[0].text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr

        for refused in (_scrape(server, None), _scrape(server, "another-token-0123456789")):
            assert refused.status_code == 401
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert "maestrist_" not in refused.text
        assert server.stop() == 0
        port = server.port

    with running_server(
        tmp_path / "again.log", settings, until="/health/live", port=port
    ) as restarted:
        assert _live_requests(_scrape(restarted).text) == before  # the start-up wait's only
