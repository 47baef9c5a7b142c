"""An authenticator commits only what it writes, in a unit of work of its own: the request's
transaction, with whatever a use case staged in it, is left for the use case to commit or
drop. On PostgreSQL, where both transactions can be open at once."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import SqlaUnitsOfWork, create_database_engine
from application.api_keys import CreateApiKey, CreateApiKeyRequest
from application.identity import ApiKeyAuthenticator
from application.identity.principal_cache import PrincipalCache
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitsOfWork
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.organizations.entities import Organization
from tests.backends import TEST_CIPHER
from tests.factories import create_user
from tests.fakes import FakeClock

pytestmark = pytest.mark.postgres


@pytest.fixture
async def units(postgres_url: str) -> AsyncIterator[UnitsOfWork]:
    engine = create_database_engine(postgres_url, pool_size=3, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    try:
        yield SqlaUnitsOfWork(sessions, TEST_CIPHER)
    finally:
        await engine.dispose()


async def test_a_keys_last_use_is_committed_without_the_requests_staged_work(
    units: UnitsOfWork,
) -> None:
    clock = FakeClock()
    ada = create_user("ada")
    org, owner = Organization.personal_for(owner=ada.id_, display_name="Ada", now=clock.now())
    async with units.begin() as uow:
        await uow.users.add(ada)
        await uow.orgs.add(org, owner)
        await uow.commit()
        created = await CreateApiKey(uow, clock).execute(
            CreateApiKeyRequest(
                actor=Principal(user=ada, method=AuthMethod.SESSION),
                org=MemberOrganization(organization=org, role=owner.role),
                name="ci",
                scopes=frozenset(),
            )
        )

    async with units.begin() as request:
        await request.users.add(create_user("staged-by-a-use-case"))
        principal = await ApiKeyAuthenticator(
            units, clock, PrincipalCache(clock, timedelta(0))
        ).authenticate(Credentials(authorization=f"Bearer {created.token}"))
        assert principal is not None
        assert principal.credential_id == created.key.id_

    async with units.begin() as after:
        assert await after.users.get_by_subject("staged-by-a-use-case") is None
        [key] = await after.api_keys.list_for_user(ada.id_, org.id_)
        assert key.last_used_at == clock.now()
