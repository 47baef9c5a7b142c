"""Each port contract runs against the fake and against every real adapter of that port."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import (
    SqlaAuditLog,
    SqlaOrgRepository,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from application.ports.unit_of_work import UnitOfWork
from domain.ports.audit_log import AuditLog
from domain.ports.org_repository import OrgRepository
from domain.ports.user_repository import UserRepository
from tests.fakes import (
    FakeAuditLog,
    FakeOrgRepository,
    FakeStore,
    FakeUnitOfWork,
    FakeUserRepository,
)


@dataclass(frozen=True, slots=True)
class Ports:
    users: UserRepository
    orgs: OrgRepository
    audit: AuditLog
    uow: UnitOfWork


OpenPorts = Callable[[], AbstractAsyncContextManager[Ports]]
"""Opens one transaction (a request's worth of ports); uncommitted work is dropped on exit."""


@asynccontextmanager
async def _sqla_ports(url: str) -> AsyncIterator[OpenPorts]:
    engine = create_database_engine(url, pool_size=2, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def open_ports() -> AsyncIterator[Ports]:
        async with sessions() as session:
            yield Ports(
                users=SqlaUserRepository(session),
                orgs=SqlaOrgRepository(session),
                audit=SqlaAuditLog(session),
                uow=SqlaUnitOfWork(session),
            )

    try:
        yield open_ports
    finally:
        await engine.dispose()


@asynccontextmanager
async def _fake_ports() -> AsyncIterator[OpenPorts]:
    store = FakeStore()

    @asynccontextmanager
    async def open_ports() -> AsyncIterator[Ports]:
        yield Ports(
            users=FakeUserRepository(store),
            orgs=FakeOrgRepository(store),
            audit=FakeAuditLog(store),
            uow=FakeUnitOfWork(store),
        )
        store.rollback()

    yield open_ports


@pytest.fixture(
    params=[
        pytest.param("fake"),
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` for the fake, else the URL of a migrated database of this test's own."""
    if request.param == "fake":
        return None
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def open_ports(backend_url: str | None) -> AsyncIterator[OpenPorts]:
    opened = _fake_ports() if backend_url is None else _sqla_ports(backend_url)
    async with opened as opener:
        yield opener
