from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.identity.principal_cache import PrincipalCache
from domain.identity.principals import AuthMethod, Principal
from tests.factories import create_user
from tests.fakes import (
    FakeAccessRevocations,
    FakeApiKeyRepository,
    FakeAuditLog,
    FakeClock,
    FakeOrgRepository,
    FakeStore,
    FakeUnitOfWork,
    FakeUnitsOfWork,
    FakeUserRepository,
)


@dataclass
class World:
    store: FakeStore
    users: FakeUserRepository
    orgs: FakeOrgRepository
    audit: FakeAuditLog
    uow: FakeUnitOfWork
    units: FakeUnitsOfWork
    clock: FakeClock
    api_keys: FakeApiKeyRepository
    revocations: FakeAccessRevocations
    principals: PrincipalCache
    """Not following revocations, so it never remembers: the tests of it follow their own."""

    def principal(self, subject: str) -> Principal:
        user = create_user(subject)
        self.store.live.users[user.id_] = user
        self.store.commit()
        return Principal(user=user, method=AuthMethod.SESSION)


@pytest.fixture
def world() -> World:
    store = FakeStore()
    clock = FakeClock()
    return World(
        store=store,
        users=FakeUserRepository(store),
        orgs=FakeOrgRepository(store),
        audit=FakeAuditLog(store),
        uow=FakeUnitOfWork(store),
        units=FakeUnitsOfWork(store),
        clock=clock,
        api_keys=FakeApiKeyRepository(store),
        revocations=FakeAccessRevocations(),
        principals=PrincipalCache(clock, timedelta(seconds=10)),
    )
