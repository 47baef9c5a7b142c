"""Direct access to a test database through the real adapters, outside any app."""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import (
    SqlaApiKeyRepository,
    SqlaAuditLog,
    SqlaOrgRepository,
    SqlaSessionRepository,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.audit_log import AuditLog
from application.ports.cipher import Cipher
from application.ports.org_repository import OrgRepository
from application.ports.session_repository import SessionRepository
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserRepository
from domain.identity.entities import User
from domain.organizations.entities import Organization
from tests.factories import create_user

TEST_CIPHER = AesGcmCipher({"test": os.urandom(32)})
"""Seals what the test bundles store; one key per test run."""


@dataclass(frozen=True, slots=True)
class Ports:
    users: UserRepository
    orgs: OrgRepository
    audit: AuditLog
    uow: UnitOfWork
    api_keys: ApiKeyRepository
    sessions: SessionRepository
    cipher: Cipher = TEST_CIPHER
    """What ``sessions`` seals provider tokens with (the fake bundle's is a FakeCipher)."""


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
                uow=SqlaUnitOfWork(session, TEST_CIPHER),
                api_keys=SqlaApiKeyRepository(session),
                sessions=SqlaSessionRepository(session, TEST_CIPHER),
                cipher=TEST_CIPHER,
            )

    try:
        yield open_ports
    finally:
        await engine.dispose()


async def add_user(url: str, subject: str) -> User:
    """Store a user with a personal organization, as sign-in will, in one transaction."""
    user = create_user(subject)
    personal = Organization.personal_for(
        owner=user.id_, display_name=user.display_name, now=user.created_at
    )
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.users.add(user)
        await ports.orgs.add(*personal)
        await ports.uow.commit()
    return user
