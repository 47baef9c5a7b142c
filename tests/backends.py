"""The backends every port contract runs against: the fakes over one ``FakeStore``, or the SQL
adapters over a migrated SQLite or PostgreSQL database. A backend opens transactions, each a
request's worth of ports; a suite needing a port the bundle lacks adds it to ``Ports`` here."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import SqlaUnitOfWork, SqlaUnitsOfWork, create_database_engine
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.audit_log import AuditLog
from application.ports.cipher import Cipher
from application.ports.invitation_repository import InvitationRepository
from application.ports.org_repository import OrgRepository
from application.ports.provider_token_store import ProviderTokenStore
from application.ports.secret_store import SecretStore
from application.ports.session_repository import SessionRepository
from application.ports.settings_store import SettingsStore
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from application.ports.user_repository import UserRepository
from tests.fakes import FakeCipher, FakeStore
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork
from tests.support.polling import until_awaited

__all__ = (
    "FIXTURE_KEY_ID",
    "TEST_CIPHER",
    "Backend",
    "ExecuteSql",
    "OpenPorts",
    "Ports",
    "fake_backend",
    "open_backend",
    "sqla_backend",
    "until_a_transaction_waits",
)

FIXTURE_KEY_ID = "fixture"
"""A fixed key the SQL backends open with but never seal with: literal ciphertexts in the
contract suites, sealed under it as an earlier release sealed them, must keep opening."""

TEST_CIPHER = AesGcmCipher({"test": os.urandom(32), FIXTURE_KEY_ID: bytes(range(32))})
"""Seals what the SQL backends store with one key per test run; opens the fixture key too."""


@dataclass(frozen=True, slots=True)
class Ports:
    """One transaction's worth of the ports a database serves: a unit of work and its
    repositories, named as the unit of work names them."""

    uow: UnitOfWork
    cipher: Cipher
    """What the sealed repositories seal with (the fake bundle's is a FakeCipher)."""
    users: UserRepository
    orgs: OrgRepository
    audit: AuditLog
    api_keys: ApiKeyRepository
    sessions: SessionRepository
    invitations: InvitationRepository
    provider_tokens: ProviderTokenStore
    settings: SettingsStore
    secrets: SecretStore

    @classmethod
    def of(cls, uow: UnitOfWork, cipher: Cipher) -> "Ports":
        return cls(
            uow=uow,
            cipher=cipher,
            users=uow.users,
            orgs=uow.orgs,
            audit=uow.audit,
            api_keys=uow.api_keys,
            sessions=uow.sessions,
            invitations=uow.invitations,
            provider_tokens=uow.provider_tokens,
            settings=uow.settings,
            secrets=uow.secrets,
        )


OpenPorts = Callable[[], AbstractAsyncContextManager[Ports]]
"""Opens one transaction (a request's worth of ports); uncommitted work is dropped on exit."""

ExecuteSql = Callable[[str], AbstractAsyncContextManager[list[tuple[object, ...]]]]
"""Runs one SQL statement past the adapters in a transaction of its own, which it commits."""


@dataclass(frozen=True, slots=True)
class Backend:
    """Every port over one store: what a contract suite holds the fakes and adapters to."""

    open: OpenPorts
    conversations: UnitsOfWork
    waiting: Callable[[], Awaitable[int]]
    """How many transactions wait now for a lock another one holds. On SQLite, whose writers
    wait without a trace, how many writes are being executed now: in WAL mode only a writer
    waits, and a transaction between two statements executes none, so a write still being
    executed while another transaction holds the write lock waits for it."""
    execute: ExecuteSql | None = None
    """SQL backends only: to see what the database holds, or to tamper with it."""


@asynccontextmanager
async def fake_backend() -> AsyncIterator[Backend]:
    store = FakeStore()
    cipher = FakeCipher()

    @asynccontextmanager
    async def open_ports() -> AsyncIterator[Ports]:
        uow = FakeUnitOfWork(store, cipher)
        try:
            yield Ports.of(uow, cipher)
        finally:
            await uow.rollback()

    async def waiting() -> int:
        return store.lock_waiters

    yield Backend(open_ports, FakeUnitsOfWork(store), waiting)


def _executor(engine: AsyncEngine) -> ExecuteSql:
    @asynccontextmanager
    async def execute(sql: str) -> AsyncIterator[list[tuple[object, ...]]]:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql))
            yield [tuple(row) for row in result] if result.returns_rows else []

    return execute


class _SqliteStatements:
    """The writes an SQLite engine's connections are executing now: from when the driver's
    thread begins one (its trace callback) until its answer is back."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._running: dict[int, str] = {}
        event.listen(engine.sync_engine, "connect", self._connected)
        event.listen(engine.sync_engine, "after_cursor_execute", self._answered)
        event.listen(engine.sync_engine, "handle_error", self._failed)

    def _connected(self, dbapi_connection: Any, _record: object) -> None:
        key = id(dbapi_connection)

        def began(sql: str) -> None:
            if (
                not sql.lstrip()
                .upper()
                .startswith(("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"))
            ):
                self._running[key] = sql

        dbapi_connection.await_(dbapi_connection.driver_connection.set_trace_callback(began))

    def _answered(self, connection: Connection, *_: object) -> None:
        self._running.pop(id(connection.connection.dbapi_connection), None)

    def _failed(self, context: ExceptionContext) -> None:
        if context.connection is not None:
            self._running.pop(id(context.connection.connection.dbapi_connection), None)

    async def count(self) -> int:
        return len(self._running)


def _lock_waits(execute: ExecuteSql) -> Callable[[], Awaitable[int]]:
    async def waiting() -> int:
        async with execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ) as rows:
            return int(str(rows[0][0]))

    return waiting


@asynccontextmanager
async def sqla_backend(url: str) -> AsyncIterator[Backend]:
    """The SQL adapters over the migrated database at ``url``."""
    engine = create_database_engine(url, pool_size=4, connect_timeout_s=5)
    execute = _executor(engine)
    waiting = _SqliteStatements(engine).count if url.startswith("sqlite") else _lock_waits(execute)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def open_ports() -> AsyncIterator[Ports]:
        async with sessions() as session:
            yield Ports.of(SqlaUnitOfWork(session, TEST_CIPHER), TEST_CIPHER)

    try:
        yield Backend(open_ports, SqlaUnitsOfWork(sessions, TEST_CIPHER), waiting, execute)
    finally:
        await engine.dispose()


async def until_a_transaction_waits(backend: Backend) -> None:
    """Polls, with a generous deadline, until a transaction waits for a lock."""
    await until_awaited(backend.waiting, "a transaction waiting for the lock")


def open_backend(url: str | None) -> AbstractAsyncContextManager[Backend]:
    """The fake backend for ``None``, else the SQL one over ``url``."""
    return fake_backend() if url is None else sqla_backend(url)
