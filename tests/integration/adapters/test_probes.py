"""Readiness probes against live stores, and against ports where nothing useful answers.

``asyncio.timeout`` in these tests only keeps a broken probe from hanging the run.
"""

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.redis import RedisProbe, create_redis_client
from adapters.sqlalchemy import SqlaDatabaseProbe, create_database_engine
from application.errors import DependencyUnavailableError
from tests.conftest import POSTGRES_ADMIN_URL, REDIS_URL
from tests.support.ports import closed_port

HANG_GUARD_S = 10
PROBE_TIMEOUT_S = 1.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections (in the kernel backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def unreachable_postgres_url(port: int) -> str:
    """A PostgreSQL URL on ``port``; no database server is behind it, so none is touched."""
    return (
        make_url(POSTGRES_ADMIN_URL)
        .set(
            drivername="postgresql+asyncpg",
            host="127.0.0.1",
            port=port,
            database="maestrist_test_none",
        )
        .render_as_string(hide_password=False)
    )


async def check_database(url: str) -> None:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=PROBE_TIMEOUT_S)
    try:
        async with asyncio.timeout(HANG_GUARD_S):
            await SqlaDatabaseProbe(engine).check()
    finally:
        await engine.dispose()


async def check_redis(url: str) -> None:
    client = create_redis_client(url, timeout_s=PROBE_TIMEOUT_S, max_connections=2)
    try:
        async with asyncio.timeout(HANG_GUARD_S):
            await RedisProbe(client).check()
    finally:
        await client.aclose()


async def test_probes_name_their_dependency() -> None:
    engine = create_database_engine("sqlite+aiosqlite://", pool_size=1, connect_timeout_s=1)
    client = create_redis_client(REDIS_URL, timeout_s=1, max_connections=1)
    try:
        assert SqlaDatabaseProbe(engine).name == "database"
        assert RedisProbe(client).name == "redis"
    finally:
        await client.aclose()
        await engine.dispose()


async def test_database_probe_passes_on_a_live_sqlite_file(sqlite_url: str) -> None:
    await check_database(sqlite_url)


async def test_database_probe_fails_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-directory' / 'maestrist.db'}"
    before = set(threading.enumerate())

    with pytest.raises(DependencyUnavailableError):
        await check_database(url)

    # aiosqlite's failed connect queues its worker thread's stop without awaiting it; let that
    # thread finish while this test's loop is open, or it reports "Event loop is closed" from
    # its thread later (omnilib/aiosqlite#241, open PR #389).
    for thread in set(threading.enumerate()) - before:
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=HANG_GUARD_S)
            assert not thread.is_alive()


@pytest.mark.postgres
async def test_database_probe_passes_on_a_live_postgres(postgres_url: str) -> None:
    await check_database(postgres_url)


async def test_database_probe_fails_on_a_closed_postgres_port() -> None:
    with pytest.raises(DependencyUnavailableError):
        await check_database(unreachable_postgres_url(closed_port()))


async def test_database_probe_fails_when_postgres_never_answers(silent_port: int) -> None:
    with pytest.raises(DependencyUnavailableError):
        await check_database(unreachable_postgres_url(silent_port))


@pytest.mark.redis
async def test_redis_probe_passes_on_a_live_redis() -> None:
    await check_redis(REDIS_URL)


async def test_redis_probe_fails_on_a_closed_port() -> None:
    with pytest.raises(DependencyUnavailableError):
        await check_redis(f"redis://127.0.0.1:{closed_port()}/0")


async def test_redis_probe_fails_when_redis_never_answers(silent_port: int) -> None:
    with pytest.raises(DependencyUnavailableError):
        await check_redis(f"redis://127.0.0.1:{silent_port}/0")
