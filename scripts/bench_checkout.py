"""What a PostgreSQL checkout and a request's transaction cost, in process.

Times, one after the other on uvloop, best of ``--runs`` x ``--count``: a checkout and return
with SQLAlchemy's pre-ping (what the engine did before) and with the engine
``create_database_engine`` builds; then a session running three ``SELECT 1`` (what resolving
an API key runs) in a transaction and in autocommit. Prints wall and CPU microseconds per
operation. Needs only a PostgreSQL it may connect to; it creates and writes nothing::

    python scripts/bench_checkout.py postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
"""

import argparse
import time
from collections.abc import Awaitable, Callable

import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from adapters.sqlalchemy import create_database_engine

Operation = Callable[[], Awaitable[None]]


async def _timed(operation: Operation, *, runs: int, count: int) -> tuple[float, float]:
    """Best wall and best CPU microseconds per call, after a warm-up."""
    for _ in range(count // 10):
        await operation()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            await operation()
        walls.append((time.perf_counter() - wall) / count * 1e6)
        cpus.append((time.process_time() - cpu) / count * 1e6)
    return min(walls), min(cpus)


def _checkout(engine: AsyncEngine) -> Operation:
    async def operation() -> None:
        async with engine.connect():
            pass

    return operation


def _three_selects(engine: AsyncEngine) -> Operation:
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    async def operation() -> None:
        async with sessions() as session:
            for _ in range(3):
                await session.execute(text("SELECT 1"))

    return operation


async def _main(url: str, runs: int, count: int) -> None:
    pre_ping = create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    ours = create_database_engine(url, pool_size=5, connect_timeout_s=5)
    autocommit = ours.execution_options(isolation_level="AUTOCOMMIT")
    cases = (
        ("checkout and return, pre-ping", _checkout(pre_ping)),
        ("checkout and return, ours", _checkout(ours)),
        ("session, 3 SELECTs, in a transaction", _three_selects(ours)),
        ("session, 3 SELECTs, autocommit", _three_selects(autocommit)),
    )
    try:
        for label, operation in cases:
            wall, cpu = await _timed(operation, runs=runs, count=count)
            print(f"{label:40s} wall {wall:8.0f} µs   cpu {cpu:8.0f} µs")
    finally:
        await pre_ping.dispose()
        await ours.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="postgresql+asyncpg://user@host:port/database")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    uvloop.run(_main(args.url, args.runs, args.count))


if __name__ == "__main__":
    main()
