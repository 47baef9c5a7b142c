"""Background jobs with real processes: a worker killed mid-job, a poison job and the operator
commands, and a schedule fired by two servers at once."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import SqlaUnitsOfWork, create_database_engine
from domain.jobs.entities import CLAIM_GRACE, JobStatus, NewJob, RetryPolicy
from tests.backends import TEST_CIPHER
from tests.conftest import REDIS_URL
from tests.e2e.test_cli import MAESTRIST, run
from tests.e2e.test_server import clustered, running_server, server_env
from tests.support.polling import until_sync
from tests.support.webhooks import GITHUB_SECRET, github_delivery

pytestmark = [pytest.mark.server, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_process(url: str, log: Path) -> Iterator[subprocess.Popen[str]]:
    """The product's worker in a process of its own, running the test jobs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.job_worker", url, str(log)],
        cwd=ROOT,
        env=server_env({}),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


async def _enqueue(url: str, job: NewJob) -> None:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        units = SqlaUnitsOfWork(async_sessionmaker(engine), TEST_CIPHER)
        async with units.begin() as uow:
            await uow.jobs.enqueue(job, datetime.now(UTC))
            await uow.commit()
    finally:
        await engine.dispose()


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _jobs(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = run(env, "jobs", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def test_a_job_whose_worker_is_killed_mid_job_runs_again_once_its_claim_runs_out(
    tmp_path: Path, postgres_url: str
) -> None:
    log = tmp_path / "jobs.log"
    env = server_env(clustered(tmp_path, postgres_url, REDIS_URL))
    job = NewJob(
        kind="test.slow",
        payload={"seconds": 1.5},
        retry=RetryPolicy(max_attempts=3, timeout=timedelta(seconds=3)),
    )
    await _enqueue(postgres_url, job)
    with worker_process(postgres_url, log) as first:
        until_sync(lambda: f"start {job.id_} 1" in _lines(log), "the first attempt")
        os.killpg(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
    [running] = _jobs(env, "list", "--status", "running")
    assert (running["id"], running["attempts"]) == (str(job.id_), 1)

    with worker_process(postgres_url, log):
        until_sync(lambda: f"end {job.id_} 2" in _lines(log), "the second attempt's end")
        taken_after = time.monotonic() - killed_at
        # The handler logged its end; the worker records the job done just after.
        until_sync(lambda: _jobs(env, "show", str(job.id_))[0]["status"] == "done", "done")

    assert _lines(log) == [f"start {job.id_} 1", f"start {job.id_} 2", f"end {job.id_} 2"]
    assert taken_after >= CLAIM_GRACE.total_seconds()  # not before the claim ran out
    [done] = _jobs(env, "show", str(job.id_))
    assert (done["status"], done["attempts"]) == ("done", 2)
    assert done["lastError"] == "its worker stopped before the attempt ended"


async def test_a_poison_job_ends_dead_with_its_error_and_the_cli_retries_and_drops_it(
    tmp_path: Path, postgres_url: str
) -> None:
    log = tmp_path / "jobs.log"
    env = server_env(clustered(tmp_path, postgres_url, REDIS_URL))
    job = NewJob(
        kind="test.poison",
        payload={"n": 1},
        retry=RetryPolicy(max_attempts=3, backoff=timedelta(0)),
    )
    await _enqueue(postgres_url, job)

    def dead() -> list[dict[str, Any]]:
        return _jobs(env, "list", "--status", "dead", "--kind", "test.poison")

    with worker_process(postgres_url, log):
        until_sync(lambda: len(dead()) == 1, "the dead job")
        [buried] = dead()
        assert (buried["id"], buried["attempts"], buried["maxAttempts"]) == (str(job.id_), 3, 3)
        assert buried["lastError"] == "RuntimeError: poisoned on attempt 3"
        assert _jobs(env, "depth")[0]["dead"] == 1

        [revived] = _jobs(env, "retry", str(job.id_))
        assert (revived["status"], revived["attempts"]) == ("queued", 0)
        until_sync(lambda: len(_lines(log)) == 6 and len(dead()) == 1, "the retried job's death")

    assert _lines(log) == [f"start {job.id_} {n}" for n in (1, 2, 3, 1, 2, 3)]
    refused = run(env, "jobs", "retry", str(uuid.uuid4()))
    assert refused.returncode == 1
    assert "No job has the id" in refused.stderr
    [dropped] = _jobs(env, "drop", str(job.id_))
    assert dropped["status"] == JobStatus.DEAD.value
    assert dead() == []
    assert _jobs(env, "depth") == [
        {"dead": 0, "due": 0, "oldestDueAt": None, "running": 0, "scheduled": 0}
    ]


@pytest.mark.parametrize("binding", ["clustered", "embedded"])
def test_a_schedule_fires_once_per_tick_with_two_servers(
    tmp_path: Path, postgres_url: str, binding: str
) -> None:
    """Two ``maestrist worker`` processes on PostgreSQL (clustered), or a ``maestrist serve``
    running its jobs and a worker on one SQLite file (embedded), fire the upkeep schedule every
    2 s: each tick makes one job, which runs once."""
    settings = {
        "MAESTRIST_JOBS_PRUNE_SCHEDULE": "*/2 * * * * *",
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
        "MAESTRIST_RUNTIME": "scripted",
    }
    if binding == "clustered":
        settings |= clustered(tmp_path, postgres_url, REDIS_URL)
    else:
        settings["MAESTRIST_DATA_DIR"] = str(tmp_path / "data")
    env = server_env(settings)
    assert run(env, "migrate").returncode == 0
    count = 2 if binding == "clustered" else 1
    logs = [(tmp_path / f"worker-{n}.log").open("w") for n in range(count)]
    workers = [
        subprocess.Popen(
            [MAESTRIST, "worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        for log in logs
    ]
    for log in logs:
        log.close()
    with ExitStack() as servers:
        if binding == "embedded":
            servers.enter_context(running_server(tmp_path / "serve.log", settings))
        try:
            until_sync(
                lambda: len(_jobs(env, "list", "--kind", "jobs.prune", "--status", "done")) >= 5,
                "five ticks",
            )
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                assert worker.wait(timeout=30) == 0

    jobs = _jobs(env, "list", "--kind", "jobs.prune")
    ticks = sorted(datetime.fromisoformat(job["key"].split(":", 2)[2]) for job in jobs)
    assert len(ticks) == len(set(ticks))
    assert all(b - a == timedelta(seconds=2) for a, b in itertools.pairwise(ticks))
    assert {job["attempts"] for job in jobs if job["status"] == "done"} == {1}
    said = [(tmp_path / f"worker-{n}.log").read_text() for n in range(count)]
    assert all("worker_started" in text and "worker_stopped" in text for text in said)


def test_a_webhook_delivered_twice_while_no_worker_runs_is_processed_once(
    tmp_path: Path, postgres_url: str
) -> None:
    """Through ``maestrist serve`` with its workers off: both deliveries are answered at
    once; a ``maestrist worker`` started later processes the delivery once."""
    settings = clustered(tmp_path, postgres_url, REDIS_URL) | {
        "MAESTRIST_JOBS_IN_SERVE": "false",
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
        "MAESTRIST_GITHUB_WEBHOOK_SECRETS": GITHUB_SECRET,
    }
    env = server_env(settings)
    body, headers = github_delivery(
        {"zen": "Anything added dilutes everything else."}, event="ping"
    )
    with running_server(tmp_path / "serve.log", settings) as server:
        answers = [
            server.http.post("/api/webhooks/github", content=body, headers=headers)
            for _ in range(2)
        ]
    assert [(a.status_code, a.content) for a in answers] == [(202, b"")] * 2
    [waiting] = _webhooks(env, "list")
    assert (waiting["state"], waiting["job"]["status"]) == ("received", "queued")

    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [MAESTRIST, "worker"], env=env, stdin=subprocess.DEVNULL, stderr=log
        )
    try:
        until_sync(lambda: _webhooks(env, "list", "--state", "processed") != [], "the processing")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0

    [processed] = _webhooks(env, "list")
    assert (processed["outcome"], processed["job"]["attempts"]) == ("pong", 1)
    assert processed["deliveryId"] == headers["X-GitHub-Delivery"]
    [shown] = _webhooks(env, "show", processed["id"])
    assert json.loads(shown["body"]) == json.loads(body)


def _webhooks(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = run(env, "webhooks", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_embedded_queue_outlives_a_restart(tmp_path: Path) -> None:
    """Embedded: an invitation made while no worker runs leaves its mail queued in the SQLite
    file; the server started again with its workers writes it to the data directory, once."""
    data = tmp_path / "data"
    settings = {
        "MAESTRIST_DATA_DIR": str(data),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
    }
    with running_server(
        tmp_path / "first.log", settings | {"MAESTRIST_JOBS_IN_SERVE": "false"}
    ) as server:
        org = server.http.post("/api/orgs", json={"name": "Kept Team"})
        assert org.status_code == 201, org.text
        invited = server.http.post(
            f"/api/orgs/{org.json()['id']}/invitations", json={"email": "later@example.com"}
        )
        assert invited.status_code == 201, invited.text
    env = server_env(settings)
    [queued] = _jobs(env, "list", "--kind", "mail.send")
    assert (queued["status"], queued["attempts"]) == ("queued", 0)
    assert not (data / "mail").exists()

    with running_server(tmp_path / "second.log", settings):
        until_sync(lambda: len(list((data / "mail").glob("*.eml"))) == 1, "the mail written")
        until_sync(lambda: _jobs(env, "list", "--kind", "mail.send")[0]["status"] == "done", "done")

    [written] = (data / "mail").glob("*.eml")
    text = written.read_text()
    assert "To: later@example.com" in text
    assert "Kept Team" in text
    [sent] = _jobs(env, "list", "--kind", "mail.send")
    assert sent["attempts"] == 1
