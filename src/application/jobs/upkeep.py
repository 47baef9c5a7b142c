"""The queue's own upkeep, run as a scheduled job."""

from datetime import timedelta

from application.jobs.handlers import JobHandler
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.jobs.entities import Job

__all__ = ("PRUNE_JOBS", "PruneFinishedJobs")

PRUNE_JOBS = "jobs.prune"


class PruneFinishedJobs(JobHandler):
    """Delete the jobs finished more than ``keep`` ago, and with them their dedupe keys. Dead
    jobs stay until an operator retries or drops them."""

    def __init__(self, uow: UnitOfWork, clock: Clock, keep: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._keep = keep

    async def handle(self, job: Job) -> None:
        del job
        await self._uow.jobs.prune(self._clock.now() - self._keep)
        await self._uow.commit()
