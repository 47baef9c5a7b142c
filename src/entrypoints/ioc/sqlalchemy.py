"""SQLAlchemy: SQLite (embedded) or PostgreSQL (clustered); one session per request."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sqlalchemy import (
    SchemaRevisions,
    SqlaDatabaseProbe,
    SqlaSealedRecords,
    SqlaUnitOfWork,
    SqlaUnitsOfWork,
    create_database_engine,
    dispose_engine,
)
from application.ports.cipher import Cipher
from application.ports.sealed_records import SealedRecords
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from entrypoints.ioc.readiness import DatabaseProbes
from entrypoints.settings import Settings

__all__ = ("ReadingSessions", "RequestStatements", "SqlaProvider")


@dataclass(frozen=True, slots=True)
class RequestStatements:
    """Whether the request's use case only reads: its session then runs every statement on its
    own, without the ``BEGIN`` and ``ROLLBACK`` round trips a transaction costs. Each statement
    still sees what was committed before it began, as it would at READ COMMITTED."""

    reads_only: bool


@dataclass(frozen=True, slots=True)
class ReadingSessions:
    """Sessions over the same pool whose connections run in autocommit."""

    make: async_sessionmaker[AsyncSession]


class SqlaProvider(Provider):
    """SQLAlchemy: SQLite (embedded) or PostgreSQL (clustered); one session and one unit of
    work (every repository over that session) per request, and the units of work the ingest
    opens outside requests. Repositories are reached through the unit of work only."""

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = create_database_engine(
            settings.effective_database_url,
            pool_size=settings.database.pool_size,
            connect_timeout_s=settings.dependency_timeout_s,
            pool_timeout_s=settings.database.pool_timeout_s,
        )
        yield engine
        await dispose_engine(engine)

    @provide(scope=Scope.APP)
    def sessionmaker(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @provide(scope=Scope.APP)
    def reading_sessions(self, engine: AsyncEngine) -> ReadingSessions:
        reading = engine.execution_options(isolation_level="AUTOCOMMIT")
        return ReadingSessions(async_sessionmaker(reading, expire_on_commit=False, autoflush=False))

    @provide(scope=Scope.REQUEST)
    def statements(self) -> RequestStatements:
        return RequestStatements(reads_only=False)

    @provide(scope=Scope.REQUEST)
    async def session(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        reading: ReadingSessions,
        statements: RequestStatements,
    ) -> AsyncIterator[AsyncSession]:
        session = reading.make() if statements.reads_only else sessionmaker()
        try:
            yield session
        finally:
            if session.in_transaction() or session.sync_session.identity_map:
                await session.close()  # a session that never ran a query holds nothing

    @provide(scope=Scope.REQUEST)
    def uow(self, session: AsyncSession, cipher: Cipher) -> UnitOfWork:
        return SqlaUnitOfWork(session, cipher)

    sealed = provide(SqlaSealedRecords, provides=SealedRecords, scope=Scope.REQUEST)

    @provide(scope=Scope.APP)
    def units_of_work(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Cipher
    ) -> UnitsOfWork:
        return SqlaUnitsOfWork(sessions, cipher)

    @provide(scope=Scope.APP)
    def database_probes(self, engine: AsyncEngine) -> DatabaseProbes:
        return DatabaseProbes((SqlaDatabaseProbe(engine, schema=SchemaRevisions()),))
