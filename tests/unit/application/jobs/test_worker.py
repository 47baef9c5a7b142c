"""The worker over the fake queue: how each attempt ends, and the schedule's ticks."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import pytest

from application.jobs import JobHandler, JobScheduler, JobWorker, PermanentJobError, ScheduledJob
from application.jobs.worker import STOPPED_ERROR
from domain.jobs.cron import CronSchedule
from domain.jobs.entities import Job, JobStatus, NewJob, RetryPolicy
from tests.fakes import FakeStore
from tests.fakes.clock import FakeClock
from tests.fakes.metrics import FakeMetrics
from tests.fakes.unit_of_work import FakeUnitsOfWork

POLICY = RetryPolicy(max_attempts=3, timeout=timedelta(seconds=0.2), backoff=timedelta(seconds=10))


class Handler(JobHandler):
    def __init__(self, outcome: BaseException | None = None, delay_s: float = 0) -> None:
        self.outcome = outcome
        self.delay_s = delay_s
        self.seen: list[tuple[str, int]] = []
        self.opened = self.closed = 0

    async def handle(self, job: Job) -> None:
        self.seen.append((str(job.payload["n"]), job.attempts))
        await asyncio.sleep(self.delay_s)
        if self.outcome is not None:
            raise self.outcome

    def open(self) -> AbstractAsyncContextManager[JobHandler]:
        @asynccontextmanager
        async def opened() -> AsyncIterator[JobHandler]:
            self.opened += 1
            try:
                yield self
            finally:
                self.closed += 1

        return opened()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def units() -> FakeUnitsOfWork:
    return FakeUnitsOfWork(FakeStore())


async def _enqueue(units: FakeUnitsOfWork, clock: FakeClock, kind: str = "test.work") -> Job:
    job = NewJob(kind=kind, payload={"n": 1}, retry=POLICY)
    async with units.begin() as uow:
        await uow.jobs.enqueue(job, clock.now())
        await uow.commit()
    return await _get(units, job)


async def _get(units: FakeUnitsOfWork, job: Job | NewJob) -> Job:
    async with units.begin() as uow:
        found = await uow.jobs.get(job.id_)
    assert found is not None
    return found


async def test_a_job_that_succeeds_is_done(units: FakeUnitsOfWork, clock: FakeClock) -> None:
    handler, metrics = Handler(), FakeMetrics()
    worker = JobWorker(units, clock, {"test.work": handler.open}, metrics=metrics)
    job = await _enqueue(units, clock)

    assert await worker.run_one()
    assert not await worker.run_one()

    assert handler.seen == [("1", 1)]
    assert (handler.opened, handler.closed) == (1, 1)
    assert (await _get(units, job)).status is JobStatus.DONE
    assert metrics.counts == {("job_finished", "test.work", "succeeded"): 1}


async def test_a_failing_job_is_retried_with_backoff_then_ends_dead_with_its_error(
    units: FakeUnitsOfWork, clock: FakeClock
) -> None:
    handler, metrics = Handler(RuntimeError("SMTP said 451")), FakeMetrics()
    worker = JobWorker(units, clock, {"test.work": handler.open}, metrics=metrics)
    job = await _enqueue(units, clock)

    assert await worker.run_one()
    queued = await _get(units, job)
    assert queued.status is JobStatus.QUEUED
    assert queued.run_at == clock.now() + timedelta(seconds=10)
    assert queued.last_error == "RuntimeError: SMTP said 451"
    assert not await worker.run_one()  # not before its backoff ends
    clock.advance(timedelta(seconds=10))
    assert await worker.run_one()
    assert (await _get(units, job)).run_at == clock.now() + timedelta(seconds=20)
    clock.advance(timedelta(seconds=20))
    assert await worker.run_one()

    dead = await _get(units, job)
    assert dead.status is JobStatus.DEAD
    assert dead.attempts == 3
    assert dead.last_error == "RuntimeError: SMTP said 451"
    assert handler.seen == [("1", 1), ("1", 2), ("1", 3)]
    assert metrics.counts == {
        ("job_finished", "test.work", "failed"): 2,
        ("job_finished", "test.work", "dead"): 1,
    }


async def test_an_attempt_past_its_timeout_fails(units: FakeUnitsOfWork, clock: FakeClock) -> None:
    handler = Handler(delay_s=5)
    worker = JobWorker(units, clock, {"test.work": handler.open}, metrics=FakeMetrics())
    job = await _enqueue(units, clock)

    assert await worker.run_one()

    failed = await _get(units, job)
    assert failed.status is JobStatus.QUEUED
    assert failed.last_error == "timed out after 0.2 s"
    assert handler.closed == 1


@pytest.mark.parametrize(
    ("kind", "handler", "error"),
    [
        ("test.work", Handler(PermanentJobError("no such invitation")), "no such invitation"),
        ("test.unknown", Handler(), "no handler for jobs of kind 'test.unknown'"),
    ],
    ids=["permanent", "no-handler"],
)
async def test_a_job_that_can_never_succeed_ends_dead_at_once(
    units: FakeUnitsOfWork, clock: FakeClock, kind: str, handler: Handler, error: str
) -> None:
    metrics = FakeMetrics()
    worker = JobWorker(units, clock, {"test.work": handler.open}, metrics=metrics)
    job = await _enqueue(units, clock, kind)

    assert await worker.run_one()

    dead = await _get(units, job)
    assert dead.status is JobStatus.DEAD
    assert dead.attempts == 1
    assert error in (dead.last_error or "")
    assert metrics.counts == {("job_finished", kind, "dead"): 1}


async def test_a_stopping_worker_hands_its_job_back_due_at_once(
    units: FakeUnitsOfWork, clock: FakeClock
) -> None:
    handler = Handler(delay_s=0.15)
    worker = JobWorker(
        units, clock, {"test.work": handler.open}, metrics=FakeMetrics(), concurrency=1, poll_s=0.01
    )
    job = await _enqueue(units, clock)
    worker.start()
    while not handler.seen:
        await asyncio.sleep(0.005)
    await worker.stop()

    handed_back = await _get(units, job)
    assert handed_back.status is JobStatus.QUEUED
    assert handed_back.run_at == clock.now()
    assert handed_back.last_error == STOPPED_ERROR


async def test_started_workers_run_every_due_job(units: FakeUnitsOfWork, clock: FakeClock) -> None:
    handler = Handler()
    worker = JobWorker(
        units, clock, {"test.work": handler.open}, metrics=FakeMetrics(), concurrency=2, poll_s=0.01
    )
    jobs = [await _enqueue(units, clock) for _ in range(5)]
    worker.start()
    try:
        async with asyncio.timeout(5):
            while len(handler.seen) < 5:
                await asyncio.sleep(0.01)
    finally:
        await worker.stop()
    assert {(await _get(units, job)).status for job in jobs} == {JobStatus.DONE}
    assert len(handler.seen) == 5


async def test_a_schedule_fires_once_per_tick_across_servers(
    units: FakeUnitsOfWork, clock: FakeClock
) -> None:
    every_minute = ScheduledJob(
        name="prune", cron=CronSchedule.parse("0 * * * * *"), kind="jobs.prune"
    )
    metrics = FakeMetrics()
    servers = [JobScheduler(units, clock, [every_minute], metrics=metrics) for _ in range(3)]

    assert [await s.fire_due() for s in servers] == [0, 0, 0]  # the first tick is stored
    clock.advance(timedelta(seconds=59))
    assert [await s.fire_due() for s in servers] == [0, 0, 0]
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        fired = await asyncio.gather(*(s.fire_due() for s in servers))
        assert sorted(fired) == [0, 0, 1]
    clock.advance(timedelta(hours=2))  # every server down for two hours: one late tick
    assert sum([await s.fire_due() for s in servers]) == 1

    async with units.begin() as uow:
        jobs = await uow.jobs.list(kind="jobs.prune")
    assert len(jobs) == 4
    assert all(job.payload["schedule"] == "prune" for job in jobs)
    assert metrics.counts == {("job_enqueued", "jobs.prune"): 4}
