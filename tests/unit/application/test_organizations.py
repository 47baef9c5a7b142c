import pytest

from application.organizations import (
    CreateOrganization,
    CreateOrganizationRequest,
    GetOrganization,
    GetOrganizationRequest,
    ListMyOrganizations,
    ListMyOrganizationsRequest,
)
from domain.audit.entities import AuditAction
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import (
    InvalidOrgNameError,
    InvalidOrgSlugError,
    OrgNotFoundError,
    OrgSlugTakenError,
)
from domain.shared.ids import new_id
from tests.unit.application.conftest import World


def _create(world: World) -> CreateOrganization:
    return CreateOrganization(world.uow, world.clock)


async def test_creating_commits_org_owner_membership_and_audit_together(world: World) -> None:
    alice = world.principal("alice")
    sut = _create(world)

    created = (await sut.execute(CreateOrganizationRequest(actor=alice, name="  Acme   Corp "))).org

    committed = world.store.committed
    org = committed.orgs[created.organization.id_]
    assert org.name.value == "Acme Corp"
    assert org.slug.value == "acme-corp"
    assert org.created_by == alice.user.id_
    assert org.created_at == world.clock.now()
    assert committed.memberships[(org.id_, alice.user.id_)].role is Role.OWNER
    assert created.role is Role.OWNER
    [event] = committed.audit
    assert event.action is AuditAction.ORG_CREATED
    assert event.actor_id == alice.user.id_
    assert event.org_id == org.id_
    assert event.details == {"name": "Acme Corp", "slug": "acme-corp"}


async def test_explicit_slug_wins_over_the_derived_one(world: World) -> None:
    created = (
        await _create(world).execute(
            CreateOrganizationRequest(actor=world.principal("a"), name="Acme Corp", slug="acme")
        )
    ).org
    assert created.organization.slug.value == "acme"


@pytest.mark.parametrize(
    ("name", "slug", "error"),
    [("", None, InvalidOrgNameError), ("Acme", "Bad Slug", InvalidOrgSlugError)],
)
async def test_invalid_input_commits_nothing(
    world: World, name: str, slug: str | None, error: type[Exception]
) -> None:
    commits_before = world.store.commits
    with pytest.raises(error):
        await _create(world).execute(
            CreateOrganizationRequest(actor=world.principal("a"), name=name, slug=slug)
        )
    assert world.store.commits == commits_before + 1  # only the principal's own setup commit
    assert world.store.committed.orgs == {}
    assert world.store.committed.audit == []


async def test_taken_slug_is_a_conflict_and_commits_nothing(world: World) -> None:
    alice, bob = world.principal("alice"), world.principal("bob")
    await _create(world).execute(CreateOrganizationRequest(actor=alice, name="Acme"))
    world.store.rollback()
    with pytest.raises(OrgSlugTakenError):
        await _create(world).execute(CreateOrganizationRequest(actor=bob, name="ACME"))
    world.store.rollback()
    assert len(world.store.committed.orgs) == 1
    assert len(world.store.committed.audit) == 1


async def test_members_see_their_orgs_and_strangers_get_not_found(world: World) -> None:
    alice, bob = world.principal("alice"), world.principal("bob")
    created = await _create(world).execute(CreateOrganizationRequest(actor=alice, name="Acme"))
    org_id = created.org.organization.id_

    seen = await GetOrganization(world.uow).execute(
        GetOrganizationRequest(actor=alice, org_id=org_id)
    )
    assert seen.org.organization.id_ == org_id
    with pytest.raises(OrgNotFoundError):
        await GetOrganization(world.uow).execute(GetOrganizationRequest(actor=bob, org_id=org_id))
    with pytest.raises(OrgNotFoundError):
        await GetOrganization(world.uow).execute(
            GetOrganizationRequest(actor=alice, org_id=OrgId(new_id()))
        )
    list_mine = ListMyOrganizations(world.uow)
    assert (await list_mine.execute(ListMyOrganizationsRequest(actor=bob))).orgs == []
    mine = (await list_mine.execute(ListMyOrganizationsRequest(actor=alice))).orgs
    assert [v.organization.id_ for v in mine] == [org_id]
