"""Each port contract runs against the fake and against every real adapter of that port."""

from collections.abc import AsyncIterator

import pytest

from domain.conversations.entities import Tenant
from domain.identity.entities import UserId
from domain.organizations.entities import Membership, OrgId, Role
from tests.backends import Backend, OpenPorts, open_backend
from tests.factories import T0, create_org, create_user


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
async def backend(backend_url: str | None) -> AsyncIterator[Backend]:
    async with open_backend(backend_url) as opened:
        yield opened


@pytest.fixture
def open_ports(backend: Backend) -> OpenPorts:
    return backend.open


@pytest.fixture
async def tenants(backend: Backend) -> list[Tenant]:
    """Two stored users, each the owner of an organization of their own."""
    found = []
    async with backend.open() as ports:
        for _ in range(2):
            user = create_user()
            org = create_org(user)
            await ports.users.add(user)
            await ports.orgs.add(*org)
            found.append(Tenant(org[0].id_, user.id_))
        await ports.uow.commit()
    return found


@pytest.fixture
async def teammates(backend: Backend) -> list[Tenant]:
    """Two stored users in one organization, its owner and a member: same org, other user."""
    owner, member = create_user(), create_user()
    org, founder = create_org(owner)
    async with backend.open() as ports:
        await ports.users.add(owner)
        await ports.users.add(member)
        await ports.orgs.add(org, founder)
        await ports.orgs.add_member(
            Membership(org_id=org.id_, user_id=member.id_, role=Role.MEMBER, joined_at=T0)
        )
        await ports.uow.commit()
    return [Tenant(org.id_, owner.id_), Tenant(org.id_, member.id_)]


@pytest.fixture
def users(tenants: list[Tenant]) -> list[UserId]:
    return [tenant.user_id for tenant in tenants]


@pytest.fixture
def orgs(tenants: list[Tenant]) -> list[OrgId]:
    return [tenant.org_id for tenant in tenants]
