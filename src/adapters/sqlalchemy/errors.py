import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from adapters.sqlalchemy.engine import PoolWaitExceededError
from adapters.sqlalchemy.models import Base
from application.errors import DependencyUnavailableError
from domain.identity.errors import UserSubjectTakenError
from domain.organizations.errors import (
    InvitationAlreadyPendingError,
    MemberAlreadyExistsError,
    OrgSlugTakenError,
    PersonalOrgExistsError,
)
from domain.secrets.errors import SecretNameTakenError
from domain.settings.errors import SettingsChangedConcurrentlyError
from domain.shared.errors import DomainError

__all__ = ("CONSTRAINT_TO_ERROR", "database_unavailable", "translate_db_errors")

CONSTRAINT_TO_ERROR: Mapping[str, type[DomainError]] = {
    "uq_organizations_slug": OrgSlugTakenError,
    "uq_organizations_personal_owner_id": PersonalOrgExistsError,
    "uq_users_subject": UserSubjectTakenError,
    "pk_memberships": MemberAlreadyExistsError,
    "uq_invitations_open": InvitationAlreadyPendingError,
    "uq_custom_secrets_user_id_name": SecretNameTakenError,
    "pk_user_settings": SettingsChangedConcurrentlyError,
    "pk_org_settings": SettingsChangedConcurrentlyError,
}
"""Named database constraints whose violation is a domain rule, not a bug."""

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)")


def _unique_constraint_name(table: str, columns: frozenset[str]) -> str | None:
    found = Base.metadata.tables.get(table)
    if found is None:
        return None
    for constraint in found.constraints:
        if not isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint):
            continue
        if frozenset(constraint.columns.keys()) == columns:
            return str(constraint.name)
    for index in found.indexes:
        if index.unique and frozenset(index.columns.keys()) == columns:
            return str(index.name)
    return None


UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
"""SQLSTATE prefixes meaning the database cannot serve now, not that the statement is wrong:
connection exceptions (08), insufficient resources such as too many connections (53), and an
operator's intervention: shutting down, crashed, starting up, dropped, idle timeout (57P)."""


def _driver_error(error: DBAPIError) -> BaseException | None:
    """The driver's own exception: asyncpg's sits under the adapter's DBAPI error."""
    orig = error.orig
    return getattr(orig, "__cause__", None) or orig


def database_unavailable(error: DBAPIError) -> bool:
    """The database cannot be reached or cannot serve now (a restart, an outage), as opposed to
    a statement it refused; true of a connection SQLAlchemy found dead."""
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return True
    driver = _driver_error(error)
    sqlstate = getattr(driver, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATES):
        return True
    return isinstance(driver, OSError | TimeoutError)


def violated_constraint(error: IntegrityError) -> str | None:
    """The constraint name from asyncpg, or the one SQLite's message points at by its columns."""
    name = getattr(error.orig, "constraint_name", None) or getattr(
        getattr(error.orig, "__cause__", None), "constraint_name", None
    )
    if isinstance(name, str):
        return name
    match = _SQLITE_UNIQUE.search(str(error.orig))
    if match is None:
        return None
    qualified = [part.strip() for part in match["columns"].split(",")]
    tables = {part.partition(".")[0] for part in qualified}
    if len(tables) != 1:
        return None
    return _unique_constraint_name(tables.pop(), frozenset(p.partition(".")[2] for p in qualified))


_NOT_MIGRATED = "The database schema is not migrated; run `maestrist migrate`."
_UNDEFINED_TABLE = "42P01"


def _missing_table(error: DBAPIError) -> bool:
    """A table the code uses does not exist: PostgreSQL's undefined_table, SQLite's words."""
    orig = error.orig
    codes = {
        getattr(orig, "sqlstate", None),
        getattr(orig, "pgcode", None),
        getattr(_driver_error(error), "sqlstate", None),
    }
    return _UNDEFINED_TABLE in codes or str(orig).startswith("no such table")


@asynccontextmanager
async def translate_db_errors() -> AsyncIterator[None]:
    """Turn known constraint violations into domain errors and outages into a port-level error."""
    try:
        yield
    except IntegrityError as exc:
        error_type = CONSTRAINT_TO_ERROR.get(violated_constraint(exc) or "")
        if error_type is None:
            raise
        raise error_type from exc
    except PoolWaitExceededError as exc:
        raise DependencyUnavailableError(
            f"Every database connection stayed busy for the {exc.wait_s:g} s a request waits "
            "for one."
        ) from exc
    except PoolTimeoutError as exc:
        raise DependencyUnavailableError("Every database connection stayed busy.") from exc
    except DBAPIError as exc:
        if _missing_table(exc):
            raise DependencyUnavailableError(_NOT_MIGRATED) from exc
        if database_unavailable(exc):
            raise DependencyUnavailableError("The database is unavailable.") from exc
        raise
    except (OSError, TimeoutError) as exc:
        raise DependencyUnavailableError("The database cannot be reached.") from exc
