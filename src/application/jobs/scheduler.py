"""Jobs enqueued on a schedule, once per tick across every server."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.unit_of_work import UnitsOfWork
from application.tasks import cancel_and_wait
from domain.jobs.cron import CronSchedule
from domain.jobs.entities import NewJob, RetryPolicy

__all__ = ("JobScheduler", "ScheduledJob")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledJob:
    """A job of ``kind`` enqueued at each tick of ``cron``; ``name`` keeps its ticks."""

    name: str
    cron: CronSchedule
    kind: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class JobScheduler:
    """Every server runs one. At a tick, each server tries to move the schedule on from that
    tick in the database; the one that does enqueues the tick's job in the same transaction,
    keyed by the schedule and tick, so a tick fires once however many servers run. Ticks
    missed while no server ran fire once, late."""

    def __init__(
        self,
        units: UnitsOfWork,
        clock: Clock,
        schedules: list[ScheduledJob],
        *,
        metrics: Metrics,
        enqueued: Callable[[], None] = lambda: None,
        check_s: float = 1.0,
    ) -> None:
        self._units = units
        self._clock = clock
        self._schedules = schedules
        self._enqueued = enqueued
        self._metrics = metrics
        self._check_s = check_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self._schedules:
            self._task = asyncio.create_task(self._loop(), name="job-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                if await self.fire_due():
                    self._enqueued()
            except DependencyUnavailableError as exc:
                _log.warning("scheduled jobs not checked: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.sleep(self._check_s)

    async def fire_due(self) -> int:
        """Enqueue the job of every schedule whose tick has come and that no other server
        fired; how many this server enqueued."""
        fired = 0
        for scheduled in self._schedules:
            now = self._clock.now()
            async with self._units.begin() as uow:
                due = await uow.jobs.schedule_due(scheduled.name)
                if due is None:
                    # The first tick from now: a new schedule does not fire for the past.
                    due = scheduled.cron.next_after(now)
                    await uow.jobs.advance_schedule(scheduled.name, due, due)
                    await uow.commit()
                    continue
                if due > now:
                    continue
                if not await uow.jobs.advance_schedule(
                    scheduled.name, due, scheduled.cron.next_after(now)
                ):
                    continue
                added = await uow.jobs.enqueue(
                    NewJob(
                        kind=scheduled.kind,
                        payload={"schedule": scheduled.name, "tick": due.isoformat()},
                        key=f"cron:{scheduled.name}:{due.isoformat()}",
                        retry=scheduled.retry,
                    ),
                    now,
                )
                await uow.commit()
                if added:
                    self._metrics.job_enqueued(scheduled.kind)
                fired += 1
        return fired
