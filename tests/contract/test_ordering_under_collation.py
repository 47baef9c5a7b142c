"""Listings "by name" keep one order whatever the database's collation: code point order, as
the fake and SQLite sort. The other contract databases use the C collation, which sorts that
way too; this suite runs on a PostgreSQL database collated by ICU's English rules, which puts
``_A`` before ``a`` before ``B`` and ignores case at first."""

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.organizations.entities import Membership, Role
from domain.secrets.entities import CustomSecret, SecretId, SecretName, SecretValue
from domain.shared.ids import new_id
from tests.backends import Backend
from tests.factories import T0, create_org, create_user

NAMES = ["b_TOKEN", "_A", "Z", "A_KEY", "a_key", "B", "a"]
CODE_POINT_ORDER = sorted(NAMES)


@pytest.fixture(
    params=[
        pytest.param("fake"),
        pytest.param("sqlite"),
        pytest.param("icu_postgres", marks=pytest.mark.postgres),
    ]
)
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """The contract suites' backends, with an ICU-collated PostgreSQL database for theirs."""
    if request.param == "fake":
        return None
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def test_the_names_sort_differently_under_a_real_world_collation() -> None:
    """The case below would pass under any collation if the names sorted alike in all."""
    assert CODE_POINT_ORDER == ["A_KEY", "B", "Z", "_A", "a", "a_key", "b_TOKEN"]
    assert sorted(NAMES, key=lambda n: (n.replace("_", "").lower(), n)) != CODE_POINT_ORDER


async def test_secrets_list_in_code_point_order(backend: Backend) -> None:
    user = create_user()
    secrets = [
        CustomSecret(
            id_=SecretId(new_id()),
            user_id=user.id_,
            name=SecretName(name),
            value=SecretValue("v"),
            description=None,
            created_at=T0,
            updated_at=T0,
        )
        for name in NAMES
    ]
    async with backend.open() as ports:
        await ports.users.add(user)
        for secret in secrets:
            await ports.secrets.add(secret)
        await ports.uow.commit()
    async with backend.open() as ports:
        found = await ports.secrets.list_for(user.id_)
    assert [secret.name.value for secret in found] == CODE_POINT_ORDER


async def test_organizations_and_members_list_in_code_point_order(backend: Backend) -> None:
    founder = create_user()
    members = [replace(create_user(), display_name=name) for name in NAMES]
    orgs = [create_org(founder, name) for name in NAMES]
    async with backend.open() as ports:
        for user in (founder, *members):
            await ports.users.add(user)
        for org in orgs:
            await ports.orgs.add(*org)
        for minutes, user in enumerate(members):
            joined = T0 + timedelta(minutes=minutes)
            await ports.orgs.add_member(
                Membership(
                    org_id=orgs[0][0].id_, user_id=user.id_, role=Role.MEMBER, joined_at=joined
                )
            )
        await ports.uow.commit()
    async with backend.open() as ports:
        listed = await ports.orgs.list_for_member(founder.id_)
        people = await ports.orgs.list_members(orgs[0][0].id_)
    assert [view.organization.name.value for view in listed] == CODE_POINT_ORDER
    assert [member.user.display_name for member in people] == [
        founder.display_name,
        *CODE_POINT_ORDER,
    ]
