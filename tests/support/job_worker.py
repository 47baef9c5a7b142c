"""A worker process of its own for fault tests: the product's ``JobWorker`` over the database at
``argv[1]``, running test jobs whose handlers write what they do to the file ``argv[2]``.

    python -m tests.support.job_worker DATABASE_URL LOG_FILE

``test.slow`` logs ``start <id> <attempt>``, sleeps its payload's ``seconds``, then logs
``end <id> <attempt>``; ``test.poison`` logs ``start`` and raises. It runs until killed.
"""

import asyncio
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import SqlaUnitsOfWork, create_database_engine
from adapters.system import SystemClock
from application.jobs import JobHandler, JobWorker
from domain.jobs.entities import Job
from tests.backends import TEST_CIPHER
from tests.fakes.metrics import FakeMetrics
from tests.support.jobs import opener


class _Logged(JobHandler):
    def __init__(self, log: Path) -> None:
        self._log = log

    def write(self, what: str, job: Job) -> None:
        with self._log.open("a") as out:
            out.write(f"{what} {job.id_} {job.attempts}\n")


class Slow(_Logged):
    async def handle(self, job: Job) -> None:
        self.write("start", job)
        await asyncio.sleep(float(str(job.payload["seconds"])))
        self.write("end", job)


class Poison(_Logged):
    async def handle(self, job: Job) -> None:
        self.write("start", job)
        raise RuntimeError(f"poisoned on attempt {job.attempts}")


async def main(url: str, log: Path) -> None:
    engine = create_database_engine(url, pool_size=2, connect_timeout_s=5)
    units = SqlaUnitsOfWork(async_sessionmaker(engine, expire_on_commit=False), TEST_CIPHER)
    handlers = {"test.slow": Slow(log), "test.poison": Poison(log)}

    worker = JobWorker(
        units,
        SystemClock(),
        {kind: opener(handler) for kind, handler in handlers.items()},
        metrics=FakeMetrics(),
        concurrency=2,
        poll_s=0.1,
    )
    worker.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
