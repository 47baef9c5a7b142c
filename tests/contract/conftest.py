"""Each port contract runs against the fake and against every real adapter of that port."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.db import OpenPorts, Ports, sqla_ports
from tests.fakes import (
    FakeApiKeyRepository,
    FakeAuditLog,
    FakeCipher,
    FakeOrgRepository,
    FakeSessionRepository,
    FakeStore,
    FakeUnitOfWork,
    FakeUserRepository,
)


@asynccontextmanager
async def _fake_ports() -> AsyncIterator[OpenPorts]:
    store = FakeStore()
    cipher = FakeCipher()

    @asynccontextmanager
    async def open_ports() -> AsyncIterator[Ports]:
        yield Ports(
            users=FakeUserRepository(store),
            orgs=FakeOrgRepository(store),
            audit=FakeAuditLog(store),
            uow=FakeUnitOfWork(store),
            api_keys=FakeApiKeyRepository(store),
            sessions=FakeSessionRepository(store, cipher),
            cipher=cipher,
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
    opened = _fake_ports() if backend_url is None else sqla_ports(backend_url)
    async with opened as opener:
        yield opener
