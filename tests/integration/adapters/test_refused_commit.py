"""A commit the database refuses, on SQLite and PostgreSQL: what waited for it with
``after_commit`` never runs, then or after a later commit, and the transaction's writes are
gone. Both refuse a commit only for a constraint checked at commit time, so each test makes
one of its own, in a temporary table of its transaction."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.engine import create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from tests.backends import TEST_CIPHER
from tests.factories import create_user

CHECKED_AT_COMMIT = {
    "sqlite": (
        "CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)",
        (
            "CREATE TEMP TABLE child (parent_id INTEGER REFERENCES parent (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        ),
        "INSERT INTO child VALUES (1)",
    ),
    "postgres": (
        (
            "CREATE TEMP TABLE refused (id INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED)"
            " ON COMMIT DROP"
        ),
        "INSERT INTO refused VALUES (1), (1)",
    ),
}
"""Statements after which the transaction's commit fails: a row that breaks a deferred
constraint."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> tuple[str, str]:
    kind: str = request.param
    url: str = request.getfixturevalue(f"{kind}_url")
    return kind, url


@pytest.fixture
async def sessions(database: tuple[str, str]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_database_engine(database[1], pool_size=2, connect_timeout_s=5)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    finally:
        await engine.dispose()


async def test_what_waits_for_a_refused_commit_never_runs(
    database: tuple[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    ran: list[str] = []
    ada, bob = create_user(), create_user()
    async with sessions() as session:
        uow = SqlaUnitOfWork(session, TEST_CIPHER)
        await uow.users.add(ada)
        uow.after_commit(lambda: ran.append("refused"))
        for statement in CHECKED_AT_COMMIT[database[0]]:
            await session.execute(text(statement))

        with pytest.raises(IntegrityError):
            await uow.commit()
        assert ran == []

        await uow.rollback()
        await uow.users.add(bob)
        uow.after_commit(lambda: ran.append("kept"))
        await uow.commit()
        assert ran == ["kept"]  # what the refused commit was given is gone with it

    async with sessions() as session:
        uow = SqlaUnitOfWork(session, TEST_CIPHER)
        assert await uow.users.get(ada.id_) is None
        assert await uow.users.get(bob.id_) == bob
