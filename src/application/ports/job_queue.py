from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.jobs.entities import Job, JobId, JobStatus, NewJob

__all__ = ("JobQueue", "QueueDepth")


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueDepth:
    """How many jobs wait and run, at one instant."""

    due: int
    """Queued and due now: what workers have yet to take."""
    scheduled: int
    """Queued for later (a retry's backoff, or a start time)."""
    running: int
    dead: int
    oldest_due_at: datetime | None
    """When the longest-waiting due job became due."""


class JobQueue(Protocol):
    """Jobs kept in the database, so enqueueing commits or rolls back with the work that asked
    for it. Transactional: the unit of work commits; a worker claims a job in a transaction of
    its own, commits, runs it, and finishes it in another.

    Every change to a claimed job names the attempt it was claimed for: a worker that lost its
    claim (it ran past ``locked_until`` and another worker took the job) changes nothing."""

    @abstractmethod
    async def enqueue(self, job: NewJob, now: datetime) -> bool:
        """Add ``job``; False, adding nothing, when a job with its key is kept already."""

    @abstractmethod
    async def claim(self, now: datetime) -> Job | None:
        """Take the job due longest, or one whose worker's claim ran out, for one attempt: it
        becomes running until ``now`` plus its timeout and grace, with its attempt counted.
        Jobs another transaction is claiming are skipped, never waited for."""

    @abstractmethod
    async def complete(self, job: Job, now: datetime) -> bool:
        """The attempt ``job`` was claimed for succeeded; False if the claim was lost."""

    @abstractmethod
    async def retry(self, job: Job, run_at: datetime, error: str) -> bool:
        """The attempt failed with ``error``: queue the job again for ``run_at``."""

    @abstractmethod
    async def bury(self, job: Job, now: datetime, error: str) -> bool:
        """The job failed for good with ``error``: it becomes dead."""

    @abstractmethod
    async def get(self, job_id: JobId) -> Job | None: ...

    @abstractmethod
    async def find(self, key: str) -> Job | None:
        """The job kept under ``key``."""

    @abstractmethod
    async def list(
        self, status: JobStatus | None = None, kind: str | None = None, limit: int = 100
    ) -> list[Job]:
        """Jobs newest first, of one status and kind when given."""

    @abstractmethod
    async def revive(self, job_id: JobId, now: datetime) -> bool:
        """Queue a dead job again, due now, with all its attempts; False if it is not dead."""

    @abstractmethod
    async def drop(self, job_id: JobId) -> bool:
        """Delete a dead job; False if it is not dead."""

    @abstractmethod
    async def depth(self, now: datetime) -> QueueDepth: ...

    @abstractmethod
    async def prune(self, finished_before: datetime) -> int:
        """Delete the jobs done before this instant (their keys can be used again); how many."""

    @abstractmethod
    async def advance_schedule(self, name: str, due: datetime, next_due: datetime) -> bool:
        """Move the schedule ``name`` from its tick ``due`` to ``next_due``: True for exactly
        one caller per tick across every server, which then enqueues the tick's job. A schedule
        not yet stored starts at ``due``."""

    @abstractmethod
    async def schedule_due(self, name: str) -> datetime | None:
        """The next tick stored for schedule ``name``; None before its first."""
