import asyncio
import weakref
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_only

__all__ = ("PoolWaitExceededError", "QueueingPool", "create_database_engine", "dispose_engine")


class PoolWaitExceededError(exc.TimeoutError):
    """Every connection stayed checked out for as long as a checkout may wait: ``wait_s``."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"every pooled connection stayed checked out for {wait_s:g} s")
        self.wait_s = wait_s


class QueueingPool(AsyncAdaptedQueuePool):
    """The asyncio queue pool, with every checkout queued first for one of its ``pool_size +
    max_overflow`` places, for at most ``timeout`` seconds.

    A place is given back when its connection is, and also when opening a connection for it
    failed; so while the database cannot be reached, the queued checkouts go on to fail as fast
    as connecting does, instead of waiting out ``timeout`` for a connection nobody returns (the
    queue the pool keeps alone is only woken by a connection coming back)."""

    def __init__(self, creator: Any, pool_size: int = 5, max_overflow: int = 10, **kw: Any):
        super().__init__(creator, pool_size=pool_size, max_overflow=max_overflow, **kw)
        self._places = asyncio.Semaphore(pool_size + max(max_overflow, 0))
        self._queued = 0

    @property
    def queued(self) -> int:
        """How many checkouts are waiting for a place now."""
        return self._queued

    async def _take_place(self) -> None:
        if not self._places.locked():
            await self._places.acquire()
            return
        self._queued += 1
        try:
            async with asyncio.timeout(self._timeout):
                await self._places.acquire()
        except TimeoutError:
            raise PoolWaitExceededError(self._timeout) from None
        finally:
            self._queued -= 1

    def _do_get(self) -> ConnectionPoolEntry:
        await_only(self._take_place())
        try:
            return super()._do_get()
        except BaseException:
            self._places.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self._places.release()


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class _SqliteStops:
    """The threads of invalidated SQLite connections that are still stopping.

    SQLAlchemy invalidates a connection whose statement was cancelled or failed; its own
    terminate for aiosqlite awaits a shielded graceful close and, when the task is cancelled
    again meanwhile, stops the connection's thread at once, so the graceful close queues behind
    the stop and its ``finally`` awaits an answer the ended thread never gives: an orphaned
    task no cancellation ends, and a loop that shuts down waits for it for ever. A local file
    has no peer to say goodbye to, so stopping the thread behind whatever it still has queued
    is all a graceful close does, and is done here without waiting; ``dispose_engine`` waits
    for those threads before the engine goes (a thread left to answer later would answer a loop
    that may have closed)."""

    def __init__(self) -> None:
        self.pending: set[asyncio.Future[Any]] = set()

    def terminate(self, dbapi_connection: Any) -> None:
        stopped = dbapi_connection.driver_connection.stop()
        if stopped is not None:
            self.pending.add(stopped)
            stopped.add_done_callback(self.pending.discard)

    async def wait(self, timeout_s: float) -> None:
        if self.pending:
            await asyncio.wait(set(self.pending), timeout=timeout_s)


_SQLITE_STOPS: "weakref.WeakKeyDictionary[AsyncEngine, _SqliteStops]" = weakref.WeakKeyDictionary()


async def dispose_engine(engine: AsyncEngine, *, timeout_s: float = 10.0) -> None:
    """Close every pooled connection, after the threads of invalidated SQLite connections
    have stopped (for up to ``timeout_s``: SQLite's busy timeout bounds each)."""
    stops = _SQLITE_STOPS.get(engine)
    if stops is not None:
        await stops.wait(timeout_s)
    await engine.dispose()


def _closed_connections_replaced(
    _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """A pooled connection the server closed (a restart, an idle timeout, an operator's
    ``pg_terminate_backend``) is known closed to asyncpg as soon as the loop has read the end of
    its stream: the pool opens another in its place, without the round trip a pre-ping costs.
    A connection that died silently fails its first statement instead, and SQLAlchemy then
    invalidates every connection the pool held before it."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


def _driver_errors_as_dbapi_errors(
    dialect: Any, _record: object, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """SQLAlchemy 2.0 lets asyncpg's own error escape when a new connection fails (no such
    database, a server starting up); 2.1 raises it as the dialect's DBAPI error, which
    ``translate_db_errors`` reads. Give 2.0 that shape until the pin is lifted."""
    dbapi = dialect.loaded_dbapi
    try:
        return dialect.connect(*cargs, **cparams)
    except dbapi.Error:
        raise
    except Exception as exc:
        translate = getattr(dbapi, "_asyncpg_error_translate", {})
        kind = next((translate[k] for k in type(exc).__mro__ if k in translate), None)
        if kind is None:
            raise
        adapted = kind(f"{type(exc)}: {exc}")
        adapted.pgcode = adapted.sqlstate = getattr(exc, "sqlstate", None)
        raise adapted from exc


def create_database_engine(
    url: str,
    *,
    pool_size: int,
    connect_timeout_s: float,
    pool_timeout_s: float = 30.0,
    application_name: str = "maestrist",
) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite`` (foreign keys on, WAL) or ``postgresql+asyncpg``.

    PostgreSQL: ``pool_size`` connections kept and as many again opened under load; a checkout
    queues for one up to ``pool_timeout_s`` (then ``PoolWaitExceededError``), while opening a
    connection gives up after ``connect_timeout_s``: a database that cannot be reached fails
    fast, a busy pool makes requests wait their turn."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": connect_timeout_s})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        stops = _SQLITE_STOPS[engine] = _SqliteStops()
        engine.dialect.do_terminate = stops.terminate  # type: ignore[method-assign]
        return engine
    engine = create_async_engine(
        url,
        poolclass=QueueingPool,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout_s,
        connect_args={
            "timeout": connect_timeout_s,
            "server_settings": {"application_name": application_name},
        },
    )
    event.listen(engine.sync_engine, "do_connect", _driver_errors_as_dbapi_errors)
    event.listen(engine.sync_engine, "checkout", _closed_connections_replaced)
    return engine
