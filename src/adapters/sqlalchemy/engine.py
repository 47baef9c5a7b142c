from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ("create_database_engine",)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


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
    url: str, *, pool_size: int, connect_timeout_s: float, application_name: str = "maestrist"
) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite`` (foreign keys on, WAL) or ``postgresql+asyncpg``."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": connect_timeout_s})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout_s,
        connect_args={
            "timeout": connect_timeout_s,
            "server_settings": {"application_name": application_name},
        },
    )
    event.listen(engine.sync_engine, "do_connect", _driver_errors_as_dbapi_errors)
    return engine
