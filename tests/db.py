"""Direct access to a test database through the real adapters, outside any app."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import (
    SqlaAuditLog,
    SqlaOrgRepository,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import User
from domain.ports.audit_log import AuditLog
from domain.ports.org_repository import OrgRepository
from domain.ports.user_repository import UserRepository
from tests.factories import create_user


@dataclass(frozen=True, slots=True)
class Ports:
    users: UserRepository
    orgs: OrgRepository
    audit: AuditLog
    uow: UnitOfWork


OpenPorts = Callable[[], AbstractAsyncContextManager[Ports]]
"""Opens one transaction (a request's worth of ports); uncommitted work is dropped on exit."""


@asynccontextmanager
async def sqla_ports(url: str) -> AsyncIterator[OpenPorts]:
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


async def add_user(url: str, subject: str) -> User:
    """Store a user as sign-in will, in its own transaction."""
    user = create_user(subject)
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.users.add(user)
        await ports.uow.commit()
    return user
