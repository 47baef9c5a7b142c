from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import JobRow, JobScheduleRow
from application.ports.job_queue import JobQueue, QueueDepth
from domain.jobs.entities import CLAIM_GRACE, LOST_ERROR, Job, JobId, JobStatus, NewJob, RetryPolicy

__all__ = ("SqlaJobQueue",)


def _ms(span: timedelta) -> int:
    return round(span.total_seconds() * 1000)


def _job(row: JobRow) -> Job:
    return Job(
        id_=JobId(row.id),
        kind=row.kind,
        payload=row.payload,
        key=row.dedupe_key,
        status=JobStatus(row.status),
        attempts=row.attempts,
        retry=RetryPolicy(
            max_attempts=row.max_attempts,
            timeout=timedelta(milliseconds=row.timeout_ms),
            backoff=timedelta(milliseconds=row.backoff_ms),
            max_backoff=timedelta(milliseconds=row.max_backoff_ms),
        ),
        run_at=row.run_at,
        locked_until=row.locked_until,
        last_error=row.last_error,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


class SqlaJobQueue(JobQueue):
    """The queue as the ``jobs`` table. Workers claim with ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL, so each skips the rows others are claiming; SQLite has one writer at a time
    and ignores the clause. The attempt number fences every change to a claimed job."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, job: NewJob, now: datetime) -> bool:
        statement = (
            dialect_insert(self._session, JobRow)
            .values(
                id=job.id_,
                kind=job.kind,
                payload=dict(job.payload),
                dedupe_key=job.key,
                status=JobStatus.QUEUED.value,
                attempts=0,
                max_attempts=job.retry.max_attempts,
                timeout_ms=_ms(job.retry.timeout),
                backoff_ms=_ms(job.retry.backoff),
                max_backoff_ms=_ms(job.retry.max_backoff),
                run_at=job.run_at or now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(JobRow.id)
        )
        async with translate_db_errors():
            return (await self._session.execute(statement)).first() is not None

    def _first(self, *where: Any) -> Any:
        """The id of the job due longest among ``where``, skipping rows others are claiming."""
        return (
            select(JobRow.id)
            .where(*where)
            .order_by(JobRow.run_at, JobRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )

    async def _take(self, job_id: Any, now: datetime, **values: object) -> JobRow | None:
        # One UPDATE picks and takes the job: on SQLite the transaction then starts by writing,
        # so it waits for the write lock (its busy timeout) rather than failing after a read.
        statement = (
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(status=JobStatus.RUNNING.value, attempts=JobRow.attempts + 1, **values)
            .returning(JobRow)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        row = (await self._session.scalars(statement)).first()
        if row is not None:
            row.locked_until = now + timedelta(milliseconds=row.timeout_ms) + CLAIM_GRACE
            await self._session.flush()
        return row

    async def claim(self, now: datetime) -> Job | None:
        running = JobRow.status == JobStatus.RUNNING.value
        lost = running & (JobRow.locked_until <= now)
        due = (JobRow.status == JobStatus.QUEUED.value) & (JobRow.run_at <= now)
        async with translate_db_errors():
            # An idle queue is read, not written: workers poll it, and on SQLite every write
            # waits its turn for the one write lock.
            if (
                await self._session.execute(select(JobRow.id).where(due | lost).limit(1))
            ).first() is None:
                return None
            # Jobs whose worker died during their last attempt end dead, not claimed again.
            await self._session.execute(
                update(JobRow)
                .where(
                    JobRow.id.in_(
                        select(JobRow.id)
                        .where(lost, JobRow.attempts >= JobRow.max_attempts)
                        .limit(100)
                        .with_for_update(skip_locked=True)
                    )
                )
                .values(
                    status=JobStatus.DEAD.value,
                    last_error=LOST_ERROR,
                    finished_at=now,
                    locked_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            row = await self._take(
                self._first(JobRow.status == JobStatus.QUEUED.value, JobRow.run_at <= now), now
            )
            if row is None:
                row = await self._take(self._first(lost), now, last_error=LOST_ERROR)
        return None if row is None else _job(row)

    async def _finish(self, job: Job, **values: object) -> bool:
        statement = (
            update(JobRow)
            .where(
                JobRow.id == job.id_,
                JobRow.status == JobStatus.RUNNING.value,
                JobRow.attempts == job.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return bool(result.rowcount == 1)

    async def complete(self, job: Job, now: datetime) -> bool:
        return await self._finish(
            job, status=JobStatus.DONE.value, locked_until=None, finished_at=now
        )

    async def retry(self, job: Job, run_at: datetime, error: str) -> bool:
        return await self._finish(
            job,
            status=JobStatus.QUEUED.value,
            locked_until=None,
            run_at=run_at,
            last_error=error,
        )

    async def bury(self, job: Job, now: datetime, error: str) -> bool:
        return await self._finish(
            job, status=JobStatus.DEAD.value, locked_until=None, last_error=error, finished_at=now
        )

    async def get(self, job_id: JobId) -> Job | None:
        async with translate_db_errors():
            row = await self._session.get(JobRow, job_id, populate_existing=True)
        return None if row is None else _job(row)

    async def find(self, key: str) -> Job | None:
        async with translate_db_errors():
            row = (
                await self._session.scalars(select(JobRow).where(JobRow.dedupe_key == key))
            ).first()
        return None if row is None else _job(row)

    async def list(
        self, status: JobStatus | None = None, kind: str | None = None, limit: int = 100
    ) -> list[Job]:
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [_job(row) for row in rows]

    async def _change_dead(self, statement: Any) -> bool:
        async with translate_db_errors():
            result: Any = await self._session.execute(
                statement.where(JobRow.status == JobStatus.DEAD.value).execution_options(
                    synchronize_session=False
                )
            )
        return bool(result.rowcount == 1)

    async def revive(self, job_id: JobId, now: datetime) -> bool:
        return await self._change_dead(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(status=JobStatus.QUEUED.value, attempts=0, run_at=now, finished_at=None)
        )

    async def drop(self, job_id: JobId) -> bool:
        return await self._change_dead(delete(JobRow).where(JobRow.id == job_id))

    async def depth(self, now: datetime) -> QueueDepth:
        queued = JobRow.status == JobStatus.QUEUED.value
        due = queued & (JobRow.run_at <= now)
        query = select(
            func.count().filter(due),
            func.count().filter(queued & (JobRow.run_at > now)),
            func.count().filter(JobRow.status == JobStatus.RUNNING.value),
            func.count().filter(JobRow.status == JobStatus.DEAD.value),
            func.min(JobRow.run_at).filter(due),
        ).where(JobRow.status != JobStatus.DONE.value)
        async with translate_db_errors():
            row = (await self._session.execute(query)).one()
        return QueueDepth(
            due=row[0], scheduled=row[1], running=row[2], dead=row[3], oldest_due_at=row[4]
        )

    async def prune(self, finished_before: datetime) -> int:
        statement = delete(JobRow).where(
            JobRow.status == JobStatus.DONE.value, JobRow.finished_at < finished_before
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return int(result.rowcount)

    async def advance_schedule(self, name: str, due: datetime, next_due: datetime) -> bool:
        moved = (
            update(JobScheduleRow)
            .where(JobScheduleRow.name == name, JobScheduleRow.next_run_at == due)
            .values(next_run_at=next_due)
            .execution_options(synchronize_session=False)
        )
        first = (
            dialect_insert(self._session, JobScheduleRow)
            .values(name=name, next_run_at=next_due)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(JobScheduleRow.name)
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(moved)
            if result.rowcount == 1:
                return True
            return (await self._session.execute(first)).first() is not None

    async def schedule_due(self, name: str) -> datetime | None:
        query = select(JobScheduleRow.next_run_at).where(JobScheduleRow.name == name)
        async with translate_db_errors():
            return (await self._session.execute(query)).scalar()
