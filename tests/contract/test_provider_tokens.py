"""The ProviderTokenStore contract over the fake, SQLite and PostgreSQL: one token per user and
provider, scoped by user, transactional; the SQL adapter seals both tokens at rest."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import (
    SqlaProviderTokenStore,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from application.ports.provider_token_store import ProviderTokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from tests.db import TEST_CIPHER
from tests.factories import T0, create_user
from tests.fakes import FakeProviderTokenStore, FakeStore, FakeUnitOfWork

ODD = "tøkén with 'quotes', %, _, \\ and ünïcødé ✓"


@dataclass(frozen=True, slots=True)
class Tx:
    tokens: ProviderTokenStore
    uow: UnitOfWork


@dataclass(frozen=True, slots=True)
class Backend:
    open: Callable[[], AbstractAsyncContextManager[Tx]]
    """One transaction; uncommitted work is dropped on exit."""
    users: list[UserId]
    raw: Callable[[], AbstractAsyncContextManager[list[str]]] | None = None
    """Every stored token column as the database holds it (SQL backends only)."""


@asynccontextmanager
async def _fake() -> AsyncIterator[Backend]:
    store = FakeStore()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Tx]:
        yield Tx(FakeProviderTokenStore(store), FakeUnitOfWork(store))
        store.rollback()

    yield Backend(open_, [create_user().id_ for _ in range(2)])


@asynccontextmanager
async def _sqla(url: str) -> AsyncIterator[Backend]:
    engine = create_database_engine(url, pool_size=2, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    users = [create_user() for _ in range(2)]
    async with sessions() as session:
        for user in users:
            await SqlaUserRepository(session).add(user)
        await session.commit()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Tx]:
        async with sessions() as session:
            yield Tx(
                SqlaProviderTokenStore(session, TEST_CIPHER), SqlaUnitOfWork(session, TEST_CIPHER)
            )

    @asynccontextmanager
    async def raw() -> AsyncIterator[list[str]]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT access_token, refresh_token FROM provider_tokens")
            )
            yield [str(value) for row in rows for value in row if value is not None]

    try:
        yield Backend(open_, [user.id_ for user in users], raw)
    finally:
        await engine.dispose()


@pytest.fixture
async def backend(backend_url: str | None) -> AsyncIterator[Backend]:
    """``backend_url`` (tests/contract/conftest.py): None for the fake, else a migrated DB."""
    opened = _fake() if backend_url is None else _sqla(backend_url)
    async with opened as backend:
        yield backend


def _token(user_id: UserId, host: GitHost, **changes: object) -> ProviderToken:
    token = ProviderToken(
        user_id=user_id,
        host=host,
        access_token=f"access-{host.kind.value}-{user_id.hex[:8]}",
        refresh_token=f"refresh-{host.kind.value}-{user_id.hex[:8]}",
        expires_at=T0 + timedelta(hours=8),
        refresh_expires_at=T0 + timedelta(days=180),
        scopes="repo read:org",
        updated_at=T0,
    )
    return replace(token, **changes)  # type: ignore[arg-type]


async def _put(backend: Backend, *tokens: ProviderToken) -> None:
    async with backend.open() as tx:
        for token in tokens:
            await tx.tokens.put(token)
        await tx.uow.commit()


async def test_a_stored_token_reads_back_whole_in_a_later_transaction(backend: Backend) -> None:
    ada = backend.users[0]
    github = _token(ada, GitHost(ProviderKind.GITHUB, "https://ghe.example.com"))
    gitlab = _token(
        ada,
        GitHost(ProviderKind.GITLAB),
        access_token=ODD,
        refresh_token=None,
        expires_at=None,
        refresh_expires_at=None,
        scopes=None,
    )
    await _put(backend, github, gitlab)
    async with backend.open() as tx:
        assert await tx.tokens.get(ada, ProviderKind.GITHUB) == github
        assert await tx.tokens.get(ada, ProviderKind.GITLAB) == gitlab
        assert await tx.tokens.get(ada, ProviderKind.BITBUCKET) is None


async def test_put_replaces_the_users_token_for_that_provider(backend: Backend) -> None:
    ada = backend.users[0]
    first = _token(ada, GitHost(ProviderKind.GITHUB))
    await _put(backend, first)
    second = _token(
        ada,
        GitHost(ProviderKind.GITHUB, "https://ghe.example.com"),
        access_token="newer",
        refresh_token=None,
        expires_at=None,
        refresh_expires_at=None,
        updated_at=T0 + timedelta(minutes=1),
    )
    await _put(backend, second)
    async with backend.open() as tx:
        assert await tx.tokens.list_for(ada) == [second]


async def test_each_user_sees_only_their_own_tokens(backend: Backend) -> None:
    ada, bob = backend.users
    mine = [_token(ada, GitHost(kind)) for kind in reversed(ProviderKind)]
    theirs = _token(bob, GitHost(ProviderKind.GITHUB))
    await _put(backend, *mine, theirs)
    async with backend.open() as tx:
        listed = await tx.tokens.list_for(ada)
        assert [t.provider for t in listed] == sorted(ProviderKind, key=lambda kind: kind.value)
        assert await tx.tokens.list_for(bob) == [theirs]
        assert await tx.tokens.delete(bob, ProviderKind.GITLAB) is False
        assert await tx.tokens.delete(ada, ProviderKind.GITHUB) is True
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.tokens.get(ada, ProviderKind.GITHUB) is None
        assert await tx.tokens.get(bob, ProviderKind.GITHUB) == theirs
        assert await tx.tokens.delete(ada, ProviderKind.GITHUB) is False


async def test_uncommitted_changes_are_dropped(backend: Backend) -> None:
    ada = backend.users[0]
    kept = _token(ada, GitHost(ProviderKind.GITHUB))
    await _put(backend, kept)
    async with backend.open() as tx:
        await tx.tokens.put(_token(ada, GitHost(ProviderKind.GITLAB)))
        await tx.tokens.delete(ada, ProviderKind.GITHUB)
        await tx.uow.rollback()
        assert await tx.tokens.list_for(ada) == [kept]


async def test_tokens_are_sealed_at_rest(backend: Backend) -> None:
    if backend.raw is None:
        pytest.skip("the fake keeps no ciphertext")
    ada = backend.users[0]
    token = _token(ada, GitHost(ProviderKind.GITHUB))
    await _put(backend, token)
    async with backend.raw() as stored:
        assert len(stored) == 2
        for value in stored:
            assert token.access_token not in value
            assert token.refresh_token is not None
            assert token.refresh_token not in value
