"""A new PostgreSQL connection that fails reaches our code as the dialect's DBAPI error, raised
from asyncpg's own: what ``translate_db_errors`` and ``maestrist migrate`` read. A SQLite
connection invalidated by a cancelled statement leaves nothing behind that outlives the loop."""

import asyncio
import threading
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import create_database_engine, dispose_engine
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.mark.postgres
async def test_a_connection_to_a_missing_database_fails_as_a_dbapi_error() -> None:
    url = make_url(POSTGRES_ADMIN_URL).set(
        drivername="postgresql+asyncpg", database="maestrist_no_such_database"
    )
    engine = create_database_engine(
        url.render_as_string(hide_password=False), pool_size=1, connect_timeout_s=5
    )
    try:
        with pytest.raises(DBAPIError) as raised:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()

    assert raised.value.orig is not None
    assert isinstance(raised.value.orig.__cause__, asyncpg.exceptions.InvalidCatalogNameError)
    assert getattr(raised.value.orig, "sqlstate", None) == "3D000"


async def test_statements_cancelled_twice_on_sqlite_leave_no_task_that_outlives_the_loop(
    tmp_path: Path,
) -> None:
    """A task cancelled mid-statement, and cancelled again a moment later (as a shutdown that
    re-cancels does), once left SQLAlchemy's graceful close of the invalidated connection waiting
    for ever on a stopped aiosqlite thread: a task no cancellation ends, so the event loop's
    shutdown hung. Every delay between the two cancellations is tried, many times."""
    engine = create_database_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'cancelled.db'}", pool_size=1, connect_timeout_s=5
    )
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))

    async def write_and_read() -> None:
        while True:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
                await connection.execute(text("SELECT count(*) FROM t"))

    before = asyncio.all_tasks()
    try:
        for round_ in range(400):
            task = asyncio.create_task(write_and_read())
            await asyncio.sleep(0.001 * (round_ % 5))
            task.cancel()
            for _ in range(round_ % 4 + 1):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.wait([task], timeout=5)
            assert task.done()
        left = asyncio.all_tasks() - before
        for orphan in left:
            orphan.cancel()
        _, unending = await asyncio.wait(left, timeout=5) if left else (set(), set())
        assert not unending, [orphan.get_coro() for orphan in unending]
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() >= 0
    finally:
        await dispose_engine(engine)
    # Every connection's thread ends, none left to answer a loop that has closed. One may first
    # wait out SQLite's busy timeout (5 s) for the lock a cancelled transaction held.
    deadline = asyncio.get_running_loop().time() + 20
    while _sqlite_threads() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert not _sqlite_threads()


def _sqlite_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]
