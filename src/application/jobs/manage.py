"""What an operator does with the queue: look at it, and retry or drop dead jobs."""

from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.job_queue import QueueDepth
from application.ports.unit_of_work import UnitOfWork
from domain.jobs.entities import Job, JobId, JobStatus
from domain.jobs.errors import JobNotDeadError, JobNotFoundError

__all__ = (
    "DropDeadJob",
    "GetQueueDepth",
    "ListJobs",
    "ListJobsRequest",
    "RetryDeadJob",
    "ShowJob",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListJobsRequest:
    status: JobStatus | None = None
    kind: str | None = None
    limit: int = 100


class ListJobs:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListJobsRequest) -> list[Job]:
        return await self._uow.jobs.list(request.status, request.kind, request.limit)


class ShowJob:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, job_id: JobId) -> Job:
        job = await self._uow.jobs.get(job_id)
        if job is None:
            raise JobNotFoundError(f"No job has the id {job_id}.")
        return job


async def _dead(uow: UnitOfWork, job_id: JobId) -> Job:
    job = await ShowJob(uow).execute(job_id)
    if job.status is not JobStatus.DEAD:
        raise JobNotDeadError(f"Job {job_id} is {job.status.value}, not dead.")
    return job


class RetryDeadJob:
    """Queue a dead job again, due now, with all its attempts."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, job_id: JobId) -> Job:
        await _dead(self._uow, job_id)
        if not await self._uow.jobs.revive(job_id, self._clock.now()):
            raise JobNotDeadError(f"Job {job_id} is no longer dead.")
        await self._uow.commit()
        return await ShowJob(self._uow).execute(job_id)


class DropDeadJob:
    """Delete a dead job for good."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, job_id: JobId) -> Job:
        job = await _dead(self._uow, job_id)
        if not await self._uow.jobs.drop(job_id):
            raise JobNotDeadError(f"Job {job_id} is no longer dead.")
        await self._uow.commit()
        return job


class GetQueueDepth:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self) -> QueueDepth:
        return await self._uow.jobs.depth(self._clock.now())
