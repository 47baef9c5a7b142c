"""Which database failures are an outage (``DependencyUnavailableError``, a 503 with
``Retry-After``) and which are not: each asyncpg error class, wrapped the way SQLAlchemy's
asyncpg dialect wraps it."""

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.errors import translate_db_errors
from application.errors import DependencyUnavailableError

_DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)  # type: ignore[no-untyped-call]


def as_sqlalchemy_raises(driver_error: Exception) -> DBAPIError:
    """``driver_error`` as it reaches our code: the dialect's DBAPI error, raised from the
    asyncpg error, inside SQLAlchemy's ``DBAPIError``."""
    for kind in type(driver_error).__mro__:
        adapter = _DBAPI._asyncpg_error_translate.get(kind)
        if adapter is not None:
            break
    else:
        adapter = _DBAPI.Error
    adapted = adapter(str(driver_error), driver_error)
    adapted.__cause__ = driver_error
    wrapped = DBAPIError.instance("SELECT 1", None, adapted, _DBAPI.Error)
    assert isinstance(wrapped, DBAPIError)
    return wrapped


OUTAGES = [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("terminating connection due to crash of another"),
    asyncpg.exceptions.IdleSessionTimeoutError("terminating connection due to idle timeout"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    asyncpg.exceptions.ConnectionFailureError("connection failure"),
    asyncpg.exceptions.ClientCannotConnectError("could not connect"),
    asyncpg.exceptions.PostgresConnectionError("connection exception"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.InterfaceError("connection is closed"),
    ConnectionRefusedError(111, "Connect call failed"),
    ConnectionResetError(104, "Connection reset by peer"),
    OSError(113, "No route to host"),
    TimeoutError(),
]

NOT_OUTAGES = [
    asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape sequence"),
    asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence for encoding"),
    asyncpg.exceptions.StringDataRightTruncationError("value too long"),
    asyncpg.exceptions.UndefinedColumnError('column "x" does not exist'),
]


@pytest.mark.parametrize("driver_error", OUTAGES, ids=lambda e: type(e).__name__)
async def test_every_failure_to_reach_the_database_is_unavailable(
    driver_error: Exception,
) -> None:
    with pytest.raises(DependencyUnavailableError):
        async with translate_db_errors():
            raise as_sqlalchemy_raises(driver_error)


@pytest.mark.parametrize("driver_error", OUTAGES[-4:], ids=lambda e: type(e).__name__)
async def test_a_network_error_raised_bare_is_unavailable(driver_error: Exception) -> None:
    with pytest.raises(DependencyUnavailableError):
        async with translate_db_errors():
            raise driver_error


@pytest.mark.parametrize("driver_error", NOT_OUTAGES, ids=lambda e: type(e).__name__)
async def test_a_statement_the_database_refused_is_not_an_outage(
    driver_error: Exception,
) -> None:
    with pytest.raises(DBAPIError):
        async with translate_db_errors():
            raise as_sqlalchemy_raises(driver_error)


async def test_a_missing_table_says_the_schema_is_not_migrated() -> None:
    """A table the code uses is missing: the database answers, but this release's schema is
    not there yet; unavailable (503) until ``maestrist migrate`` runs, and it says so."""
    with pytest.raises(DependencyUnavailableError, match="maestrist migrate"):
        async with translate_db_errors():
            raise as_sqlalchemy_raises(asyncpg.exceptions.UndefinedTableError("relation"))
