"""Workers take jobs from the queue, run them, and record how each attempt ended."""

import asyncio
import contextlib
import logging
import random
import time

from application.errors import DependencyUnavailableError
from application.jobs.handlers import JobHandlers, PermanentJobError
from application.ports.clock import Clock
from application.ports.metrics import JobOutcome, Metrics
from application.ports.unit_of_work import UnitsOfWork
from application.tasks import cancel_and_wait
from domain.jobs.entities import Job, error_text

__all__ = ("JobWorker",)

_log = logging.getLogger(__name__)

STOPPED_ERROR = "the server stopped during the attempt"


class JobWorker:
    """``concurrency`` loops, each claiming one job at a time. Idle, a loop looks for work
    every ``poll_s`` (with jitter, so the workers of many servers spread out); while jobs are
    due it takes them one after another. A job whose kind has no handler, or whose handler
    raises ``PermanentJobError``, ends dead at once; any other failure, a timeout included, is
    tried again after the job's backoff until its attempts run out."""

    def __init__(
        self,
        units: UnitsOfWork,
        clock: Clock,
        handlers: JobHandlers,
        *,
        metrics: Metrics,
        concurrency: int = 2,
        poll_s: float = 1.0,
    ) -> None:
        self._units = units
        self._clock = clock
        self._handlers = handlers
        self._metrics = metrics
        self._concurrency = concurrency
        self._poll_s = poll_s
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._jitter = random.Random()  # noqa: S311 - spreading polls, not secrets
        """Its own generator: the module's shared one is the tests' to seed and watch."""

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._loop(), name=f"job-worker-{n}")
                for n in range(self._concurrency)
            ]

    def wake(self) -> None:
        """Look for work now (a job was enqueued in this process)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop every loop; a job being run is handed back to the queue, due at once."""
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)

    async def _loop(self) -> None:
        while True:
            try:
                ran = await self.run_one()
            except DependencyUnavailableError as exc:
                _log.warning("jobs not claimed: %s", exc)
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_s * self._jitter.uniform(0.75, 1.25)):
                        await self._wake.wait()
                self._wake.clear()

    async def run_one(self) -> bool:
        """Claim one due job and run it; False when none was due."""
        async with self._units.begin() as uow:
            job = await uow.jobs.claim(self._clock.now())
            await uow.commit()
        if job is None:
            return False
        await self._attempt(job)
        return True

    async def _attempt(self, job: Job) -> None:
        started = time.perf_counter()
        opener = self._handlers.get(job.kind)
        if opener is None:
            await self._end(job, f"no handler for jobs of kind {job.kind!r}", started, retry=False)
            return
        try:
            async with asyncio.timeout(job.retry.timeout.total_seconds()):
                async with opener() as handler:
                    await handler.handle(job)
        except asyncio.CancelledError:
            await asyncio.shield(self._hand_back(job))
            raise
        except TimeoutError:
            seconds = job.retry.timeout.total_seconds()
            await self._end(job, f"timed out after {seconds:g} s", started, retry=True)
        except PermanentJobError as exc:
            await self._end(job, error_text(exc), started, retry=False)
        except Exception as exc:  # noqa: BLE001 - any failure of the work fails the attempt
            _log.warning("job %s (%s) attempt %d failed: %s", job.id_, job.kind, job.attempts, exc)
            await self._end(job, error_text(exc), started, retry=True)
        else:
            async with self._units.begin() as uow:
                if await uow.jobs.complete(job, self._clock.now()):
                    await uow.commit()
                    self._finished(job, JobOutcome.SUCCEEDED, started)
                else:
                    _log.warning("job %s finished after its claim ran out", job.id_)

    async def _end(self, job: Job, error: str, started: float, *, retry: bool) -> None:
        now = self._clock.now()
        async with self._units.begin() as uow:
            if retry and job.attempts_left > 0:
                outcome = JobOutcome.FAILED
                changed = await uow.jobs.retry(
                    job, now + job.retry.delay_after(job.attempts), error
                )
            else:
                outcome = JobOutcome.DEAD
                changed = await uow.jobs.bury(job, now, error)
                if changed:
                    _log.error("job %s (%s) is dead: %s", job.id_, job.kind, error)
            if changed:
                await uow.commit()
        if changed:
            self._finished(job, outcome, started)

    def _finished(self, job: Job, outcome: JobOutcome, started: float) -> None:
        self._metrics.job_finished(job.kind, outcome, time.perf_counter() - started)

    async def _hand_back(self, job: Job) -> None:
        """The server is stopping: the attempt is given up and the job is due again at once."""
        try:
            async with asyncio.timeout(5), self._units.begin() as uow:
                if await uow.jobs.retry(job, self._clock.now(), STOPPED_ERROR):
                    await uow.commit()
        except (TimeoutError, DependencyUnavailableError) as exc:
            _log.warning("job %s not handed back (its claim runs out instead): %s", job.id_, exc)
