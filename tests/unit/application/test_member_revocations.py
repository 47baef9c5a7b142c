"""Every membership change that can end or narrow access is announced after its commit, naming
the people and the organization; nothing is announced for a change refused."""

import pytest

from application.members import (
    ChangeMemberRole,
    ChangeMemberRoleRequest,
    RemoveMember,
    RemoveMemberRequest,
    TransferOwnership,
    TransferOwnershipRequest,
)
from application.organizations import CreateOrganization, CreateOrganizationRequest
from application.ports.access_revocations import MembershipChanged
from domain.identity.principals import Principal
from domain.organizations.entities import Membership, OrgId, Role
from domain.organizations.errors import MemberNotFoundError
from tests.unit.application.conftest import World


async def _with_member(world: World, org_id: OrgId, member: Principal) -> Membership:
    membership = Membership(
        org_id=org_id, user_id=member.user.id_, role=Role.MEMBER, joined_at=world.clock.now()
    )
    await world.orgs.add_member(membership)
    await world.uow.commit()
    return membership


async def test_removing_leaving_role_changes_and_transfers_are_announced(world: World) -> None:
    owner, bob_actor = world.principal("olive"), world.principal("bob")
    created = await CreateOrganization(world.uow, world.clock).execute(
        CreateOrganizationRequest(actor=owner, name="Acme")
    )
    org_id = created.org.organization.id_
    ada = await _with_member(world, org_id, world.principal("ada"))
    bob = await _with_member(world, org_id, bob_actor)
    args = (world.uow, world.clock, world.revocations)

    await ChangeMemberRole(*args).execute(
        ChangeMemberRoleRequest(actor=owner, org_id=org_id, user_id=ada.user_id, role=Role.ADMIN)
    )
    await TransferOwnership(*args).execute(
        TransferOwnershipRequest(actor=owner, org_id=org_id, new_owner=ada.user_id)
    )
    remove = RemoveMember(*args)
    await remove.execute(RemoveMemberRequest(actor=bob_actor, org_id=org_id, user_id=bob.user_id))
    with pytest.raises(MemberNotFoundError):
        await remove.execute(RemoveMemberRequest(actor=owner, org_id=org_id, user_id=bob.user_id))

    assert world.revocations.published == [
        MembershipChanged(ada.user_id, org_id),
        MembershipChanged(owner.user.id_, org_id),
        MembershipChanged(ada.user_id, org_id),
        MembershipChanged(bob.user_id, org_id),
    ]
