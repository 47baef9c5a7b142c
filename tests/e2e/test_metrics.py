"""``/metrics`` of a real ``maestrist serve`` with two workers: whichever worker answers a
scrape, it counts every worker's requests; the exposition passes ``promtool check metrics``;
the endpoint refuses a scrape without its token; a restart starts the counts from zero. A
separate job worker process answers scrapes of its own."""

import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REDIS_URL
from tests.e2e.test_cli import MAESTRIST, run
from tests.e2e.test_server import (
    ROOT,
    RunningServer,
    clustered,
    free_port,
    running_server,
    server_env,
)
from tests.support.polling import until_sync
from tests.support.ports import closed_port

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


def _job_attempts(body: str, kind: str) -> float:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "maestrist_job_attempts_total" and sample.labels == {
                "kind": kind,
                "outcome": "succeeded",
            }:
                return sample.value
    return 0.0


def test_a_job_worker_process_answers_scrapes_at_its_own_port(
    tmp_path: Path, postgres_url: str
) -> None:
    """``maestrist worker`` with ``MAESTRIST_WORKER_METRICS_PORT`` answers ``/metrics`` with
    the jobs it ran (and the queue's depth), behind the same token, passing promtool, and
    nothing else; a port it cannot listen on fails its start, naming the setting."""
    settings = clustered(tmp_path, postgres_url, REDIS_URL) | {
        "MAESTRIST_METRICS_TOKEN": TOKEN,
        "MAESTRIST_JOBS_PRUNE_SCHEDULE": "* * * * * *",
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
    }
    assert run(server_env(settings), "migrate").returncode == 0
    taken = closed_port()
    refused = run(server_env(settings | {"MAESTRIST_WORKER_METRICS_PORT": str(taken)}), "worker")
    assert refused.returncode == 2, refused.stderr
    assert f"MAESTRIST_WORKER_METRICS_PORT: cannot listen at 127.0.0.1:{taken}" in refused.stderr

    port = free_port()
    env = server_env(settings | {"MAESTRIST_WORKER_METRICS_PORT": str(port)})
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [MAESTRIST, "worker"], env=env, stdin=subprocess.DEVNULL, stderr=log
        )
    base = f"http://127.0.0.1:{port}"

    def scrape(token: str | None = TOKEN, path: str = "/metrics") -> httpx.Response | None:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        try:
            return httpx.get(f"{base}{path}", headers=headers, timeout=10, trust_env=False)
        except httpx.ConnectError:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            return None

    def pruned() -> bool:
        answer = scrape()
        return answer is not None and _job_attempts(answer.text, "jobs.prune") >= 2

    try:
        until_sync(pruned, "two prune jobs counted")
        body = scrape()
        assert body is not None
        assert body.status_code == 200
        assert "maestrist_job_queue" in body.text
        checked = subprocess.run(
            [_promtool(), "check", "metrics"],
            input=body.text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        for anonymous in (scrape(None), scrape("another-token-0123456789")):
            assert anonymous is not None
            assert anonymous.status_code == 401
            assert anonymous.headers["content-type"].startswith("application/problem+json")
            assert "maestrist_" not in anonymous.text
        elsewhere = scrape(path="/api/conversations")
        assert elsewhere is not None
        assert elsewhere.status_code == 404
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    assert "worker_metrics_listening" in (tmp_path / "worker.log").read_text()
