import asyncio
from dataclasses import replace
from datetime import datetime

from application.ports.job_queue import JobQueue, QueueDepth
from domain.jobs.entities import CLAIM_GRACE, LOST_ERROR, Job, JobId, JobStatus, NewJob
from tests.fakes.store import FakeStore

__all__ = ("FakeJobQueue", "RowLocks")


class RowLocks:
    """What one transaction changed (rows, unique keys), held as SQL holds row locks until the
    unit of work ends: another transaction waits for a held one, or skips it."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._held: dict[object, asyncio.Event] = {}

    def release(self) -> None:
        for lock, released in self._held.items():
            released.set()
            if self._store.row_locks.get(lock) is released:
                del self._store.row_locks[lock]
        self._held.clear()

    def free(self, lock: object) -> bool:
        """Not held by another transaction."""
        return lock in self._held or lock not in self._store.row_locks

    async def hold(self, lock: object) -> None:
        while not self.free(lock):
            await self._store.row_locks[lock].wait()
        if lock not in self._held:
            self._held[lock] = self._store.row_locks[lock] = asyncio.Event()


class FakeJobQueue(JobQueue):
    """The queue over the ``FakeStore``'s ``jobs`` table: a claim skips jobs another open
    transaction holds, as ``SKIP LOCKED`` does, and an enqueue of a held key waits."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks
        self._hold = locks.hold
        self._free = locks.free

    @property
    def _jobs(self) -> dict[JobId, Job]:
        return self._store.live.jobs

    async def enqueue(self, job: NewJob, now: datetime) -> bool:
        if job.key is not None:
            await self._hold(("key", job.key))
            if any(kept.key == job.key for kept in self._jobs.values()):
                return False
        await self._hold(job.id_)
        self._jobs[job.id_] = Job(
            id_=job.id_,
            kind=job.kind,
            payload=dict(job.payload),
            key=job.key,
            status=JobStatus.QUEUED,
            attempts=0,
            retry=job.retry,
            run_at=job.run_at or now,
            locked_until=None,
            last_error=None,
            created_at=now,
            finished_at=None,
        )
        return True

    def _first(self, now: datetime, *, lost: bool) -> Job | None:
        found = [
            job
            for job in self._jobs.values()
            if self._free(job.id_)
            and (
                (job.status is JobStatus.QUEUED and job.run_at <= now)
                if not lost
                else (
                    job.status is JobStatus.RUNNING
                    and job.locked_until is not None
                    and job.locked_until <= now
                )
            )
        ]
        return min(found, key=lambda job: (job.run_at, job.id_), default=None)

    async def claim(self, now: datetime) -> Job | None:
        for kept in list(self._jobs.values()):
            if (
                self._free(kept.id_)
                and kept.status is JobStatus.RUNNING
                and kept.locked_until is not None
                and kept.locked_until <= now
                and kept.attempts >= kept.retry.max_attempts
            ):
                await self._hold(kept.id_)
                self._jobs[kept.id_] = replace(
                    kept,
                    status=JobStatus.DEAD,
                    last_error=LOST_ERROR,
                    finished_at=now,
                    locked_until=None,
                )
        due = self._first(now, lost=False)
        job = due or self._first(now, lost=True)
        if job is None:
            return None
        error = job.last_error if due is not None else LOST_ERROR
        await self._hold(job.id_)
        claimed = replace(
            job,
            status=JobStatus.RUNNING,
            attempts=job.attempts + 1,
            locked_until=now + job.retry.timeout + CLAIM_GRACE,
            last_error=error,
        )
        self._jobs[job.id_] = claimed
        return claimed

    async def _finish(self, job: Job, **changes: object) -> bool:
        await self._hold(job.id_)
        kept = self._jobs.get(job.id_)
        if kept is None or kept.status is not JobStatus.RUNNING or kept.attempts != job.attempts:
            return False
        self._jobs[job.id_] = replace(kept, locked_until=None, **changes)  # type: ignore[arg-type]
        return True

    async def complete(self, job: Job, now: datetime) -> bool:
        return await self._finish(job, status=JobStatus.DONE, finished_at=now)

    async def retry(self, job: Job, run_at: datetime, error: str) -> bool:
        return await self._finish(job, status=JobStatus.QUEUED, run_at=run_at, last_error=error)

    async def bury(self, job: Job, now: datetime, error: str) -> bool:
        return await self._finish(job, status=JobStatus.DEAD, last_error=error, finished_at=now)

    async def get(self, job_id: JobId) -> Job | None:
        return self._jobs.get(job_id)

    async def find(self, key: str) -> Job | None:
        return next((job for job in self._jobs.values() if job.key == key), None)

    async def list(
        self, status: JobStatus | None = None, kind: str | None = None, limit: int = 100
    ) -> list[Job]:
        found = [
            job
            for job in self._jobs.values()
            if (status is None or job.status is status) and (kind is None or job.kind == kind)
        ]
        found.sort(key=lambda job: (job.created_at, job.id_), reverse=True)
        return found[:limit]

    async def revive(self, job_id: JobId, now: datetime) -> bool:
        await self._hold(job_id)
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.DEAD:
            return False
        self._jobs[job_id] = replace(
            job, status=JobStatus.QUEUED, attempts=0, run_at=now, finished_at=None
        )
        return True

    async def drop(self, job_id: JobId) -> bool:
        await self._hold(job_id)
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.DEAD:
            return False
        del self._jobs[job_id]
        return True

    async def depth(self, now: datetime) -> QueueDepth:
        jobs = list(self._jobs.values())
        due = [j for j in jobs if j.status is JobStatus.QUEUED and j.run_at <= now]
        return QueueDepth(
            due=len(due),
            scheduled=sum(j.status is JobStatus.QUEUED and j.run_at > now for j in jobs),
            running=sum(j.status is JobStatus.RUNNING for j in jobs),
            dead=sum(j.status is JobStatus.DEAD for j in jobs),
            oldest_due_at=min((j.run_at for j in due), default=None),
        )

    async def prune(self, finished_before: datetime) -> int:
        old = [
            job.id_
            for job in self._jobs.values()
            if job.status is JobStatus.DONE
            and job.finished_at is not None
            and job.finished_at < finished_before
        ]
        for job_id in old:
            del self._jobs[job_id]
        return len(old)

    async def advance_schedule(self, name: str, due: datetime, next_due: datetime) -> bool:
        await self._hold(("schedule", name))
        stored = self._store.live.job_schedules.get(name)
        if stored is not None and stored != due:
            return False
        self._store.live.job_schedules[name] = next_due
        return True

    async def schedule_due(self, name: str) -> datetime | None:
        return self._store.live.job_schedules.get(name)
