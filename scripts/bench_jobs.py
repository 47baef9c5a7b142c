"""The job queue's throughput: ``just bench-jobs`` (``--jobs N``, ``--workers N``).

Enqueues N no-op jobs (each committed on its own, as a request enqueues) into a fresh
database, then runs the product's ``JobWorker`` with the given concurrency until every job is
done; prints jobs per second for each phase, on PostgreSQL and on SQLite. The figures go to
docs/benchmarks.md with the command.
"""

import argparse
import asyncio
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker
from tests.fakes.metrics import FakeMetrics
from tests.support.jobs import opener

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import (
    SqlaUnitsOfWork,
    create_database_engine,
    dispose_engine,
    upgrade_to_head,
)
from adapters.system import SystemClock
from application.jobs import JobHandler, JobWorker
from domain.jobs.entities import Job, NewJob

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class Nothing(JobHandler):
    async def handle(self, job: Job) -> None:
        del job


@asynccontextmanager
async def _postgres() -> AsyncIterator[str]:
    name = f"bench_jobs_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _run(url: str, jobs: int, workers: int) -> tuple[float, float]:
    engine = create_database_engine(url, pool_size=workers + 2, connect_timeout_s=5)
    try:
        await upgrade_to_head(engine)
        units = SqlaUnitsOfWork(
            async_sessionmaker(engine, expire_on_commit=False),
            AesGcmCipher({"bench": secrets.token_bytes(32)}),
        )
        clock = SystemClock()
        started = time.perf_counter()
        for n in range(jobs):
            async with units.begin() as uow:
                await uow.jobs.enqueue(NewJob(kind="bench.nothing", key=f"bench:{n}"), clock.now())
                await uow.commit()
        enqueued = time.perf_counter() - started
        worker = JobWorker(
            units,
            clock,
            {"bench.nothing": opener(Nothing())},
            metrics=FakeMetrics(),
            concurrency=workers,
            poll_s=0.05,
        )
        started = time.perf_counter()
        worker.start()
        try:
            while True:
                async with units.begin() as uow:
                    depth = await uow.jobs.depth(clock.now())
                if depth.due == 0 and depth.running == 0:
                    break
                await asyncio.sleep(0.02)
        finally:
            await worker.stop()
        return jobs / enqueued, jobs / (time.perf_counter() - started)
    finally:
        await dispose_engine(engine)


async def main(jobs: int, workers: int) -> None:
    print(f"{jobs} jobs, {workers} workers")
    async with _postgres() as url:
        enqueue, run = await _run(url, jobs, workers)
        print(f"PostgreSQL: enqueue {enqueue:,.0f} jobs/s, run {run:,.0f} jobs/s")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        enqueue, run = await _run(url, jobs, workers)
        print(f"SQLite: enqueue {enqueue:,.0f} jobs/s, run {run:,.0f} jobs/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.workers))
