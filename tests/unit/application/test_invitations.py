from dataclasses import replace
from datetime import timedelta

import pytest

from application.mail import OutgoingMail
from application.members import (
    InviteMember,
    InviteMemberRequest,
    ListInvitations,
    ListInvitationsRequest,
    PendingInvitations,
    RevokeInvitation,
    RevokeInvitationRequest,
)
from domain.audit.entities import AuditAction
from domain.identity.entities import User
from domain.identity.principals import Principal
from domain.organizations.entities import Membership, OrgId, Role
from domain.organizations.errors import (
    InvitationAlreadyPendingError,
    InvitationNotFoundError,
    InvitationNotPendingError,
    MemberAlreadyExistsError,
    NotAnOrgAdminError,
)
from domain.organizations.invitations import (
    INVITATION_TTL,
    Invitation,
    InvitationId,
    InvitationStatus,
)
from domain.shared.ids import new_id
from tests.factories import create_org, create_user
from tests.fakes.metrics import FakeMetrics
from tests.unit.application.conftest import World

OUTGOING = OutgoingMail(domain="maestrist.example", public_url="https://maestrist.example")


def _team(world: World, owner: Principal) -> OrgId:
    org, founder = create_org(owner.user)
    world.store.live.orgs[org.id_] = org
    world.store.live.memberships[(org.id_, owner.user.id_)] = founder
    world.store.commit()
    return org.id_


def _join(world: World, org_id: OrgId, who: Principal, role: Role) -> None:
    world.store.live.memberships[(org_id, who.user.id_)] = Membership(
        org_id=org_id, user_id=who.user.id_, role=role, joined_at=world.clock.now()
    )
    world.store.commit()


def _invite(world: World) -> InviteMember:
    return InviteMember(world.uow, world.clock, OUTGOING, FakeMetrics())


async def _issue(world: World, request: InviteMemberRequest) -> Invitation:
    return (await _invite(world).execute(request)).invitation


def _accept(world: World) -> PendingInvitations:
    return PendingInvitations(world.uow)


def _signed_in(world: World, email: str, *, verified: bool = True) -> User:
    user = replace(create_user(email=email), email_verified=verified)
    world.store.live.users[user.id_] = user
    return user


async def test_inviting_commits_the_invitation_and_its_audit_together(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)

    sut = await _issue(
        world,
        InviteMemberRequest(actor=alice, org_id=team, email="New@Example.COM", role=Role.ADMIN),
    )

    committed = world.store.committed
    assert committed.invitations[sut.id_].email.value == "New@example.com"
    assert sut.role is Role.ADMIN
    assert sut.invited_by == alice.user.id_
    assert sut.expires_at == world.clock.now() + INVITATION_TTL
    [event] = committed.audit
    assert event.action is AuditAction.INVITATION_CREATED
    assert (event.target_type, event.target_id) == ("invitation", str(sut.id_))
    assert event.details == {"email": "New@example.com", "role": "admin"}
    [mail] = committed.jobs.values()
    assert (mail.kind, mail.payload["to"]) == ("mail.send", "New@example.com")
    assert mail.key == f"mail:{mail.payload['messageId']}"
    assert "https://maestrist.example/" in str(mail.payload["text"])


async def test_a_second_pending_invitation_for_the_address_is_refused(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)
    sut = _invite(world)
    await sut.execute(InviteMemberRequest(actor=alice, org_id=team, email="x@example.com"))
    with pytest.raises(InvitationAlreadyPendingError):
        await sut.execute(InviteMemberRequest(actor=alice, org_id=team, email="X@EXAMPLE.com"))
    assert len(world.store.committed.jobs) == 1  # one mail, for the first


async def test_an_expired_invitation_is_replaced(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)
    sut = _invite(world)
    first = (
        await sut.execute(InviteMemberRequest(actor=alice, org_id=team, email="x@ex.com"))
    ).invitation
    world.clock.advance(INVITATION_TTL)

    second = (
        await sut.execute(InviteMemberRequest(actor=alice, org_id=team, email="x@ex.com"))
    ).invitation

    stored = world.store.committed.invitations
    assert stored[first.id_].status(world.clock.now()) is InvitationStatus.REVOKED
    assert stored[second.id_].status(world.clock.now()) is InvitationStatus.PENDING


async def test_inviting_a_member_is_refused(world: World) -> None:
    alice, bob = world.principal("alice"), world.principal("bob")
    team = _team(world, alice)
    _join(world, team, bob, Role.MEMBER)
    with pytest.raises(MemberAlreadyExistsError):
        await _issue(
            world, InviteMemberRequest(actor=alice, org_id=team, email=bob.user.email.value.upper())
        )


async def test_members_may_neither_invite_nor_list(world: World) -> None:
    alice, bob = world.principal("alice"), world.principal("bob")
    team = _team(world, alice)
    _join(world, team, bob, Role.MEMBER)
    with pytest.raises(NotAnOrgAdminError):
        await _issue(world, InviteMemberRequest(actor=bob, org_id=team, email="x@example.com"))
    with pytest.raises(NotAnOrgAdminError):
        await ListInvitations(world.uow).execute(ListInvitationsRequest(actor=bob, org_id=team))


async def test_revoking_closes_it_and_another_orgs_id_is_not_found(world: World) -> None:
    alice, carol = world.principal("alice"), world.principal("carol")
    team, other = _team(world, alice), _team(world, carol)
    invited = await _issue(
        world, InviteMemberRequest(actor=alice, org_id=team, email="x@example.com")
    )
    sut = RevokeInvitation(world.uow, world.clock)

    with pytest.raises(InvitationNotFoundError):
        await sut.execute(
            RevokeInvitationRequest(actor=carol, org_id=other, invitation_id=invited.id_)
        )
    with pytest.raises(InvitationNotFoundError):
        await sut.execute(
            RevokeInvitationRequest(actor=alice, org_id=team, invitation_id=InvitationId(new_id()))
        )
    await sut.execute(RevokeInvitationRequest(actor=alice, org_id=team, invitation_id=invited.id_))
    with pytest.raises(InvitationNotPendingError):
        await sut.execute(
            RevokeInvitationRequest(actor=alice, org_id=team, invitation_id=invited.id_)
        )

    assert world.store.committed.invitations[invited.id_].revoked_at == world.clock.now()
    assert world.store.committed.audit[-1].action is AuditAction.INVITATION_REVOKED


async def test_a_verified_address_accepts_its_pending_invitations(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)
    invited = await _issue(
        world,
        InviteMemberRequest(actor=alice, org_id=team, email="New@example.com", role=Role.ADMIN),
    )
    user = _signed_in(world, "new@EXAMPLE.com")
    world.clock.advance(timedelta(days=1))

    await _accept(world).accept_for(user, world.clock.now())
    await world.uow.commit()

    committed = world.store.committed
    assert committed.memberships[(team, user.id_)].role is Role.ADMIN
    assert committed.invitations[invited.id_].accepted_at == world.clock.now()
    added, accepted = committed.audit[-2:]
    assert (added.action, added.actor_id, added.target_id) == (
        AuditAction.MEMBER_ADDED,
        alice.user.id_,
        str(user.id_),
    )
    assert (accepted.action, accepted.actor_id) == (AuditAction.INVITATION_ACCEPTED, user.id_)


async def test_an_unverified_address_accepts_nothing(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)
    invited = await _issue(
        world, InviteMemberRequest(actor=alice, org_id=team, email="new@example.com")
    )
    user = _signed_in(world, "new@example.com", verified=False)

    await _accept(world).accept_for(user, world.clock.now())
    await world.uow.commit()

    assert (team, user.id_) not in world.store.committed.memberships
    assert world.store.committed.invitations[invited.id_].is_open


async def test_an_expired_invitation_is_not_accepted(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)
    await _issue(world, InviteMemberRequest(actor=alice, org_id=team, email="new@example.com"))
    user = _signed_in(world, "new@example.com")
    world.clock.advance(INVITATION_TTL)

    await _accept(world).accept_for(user, world.clock.now())

    assert (team, user.id_) not in world.store.live.memberships


async def test_someone_already_a_member_keeps_their_role(world: World) -> None:
    alice = world.principal("alice")
    team = _team(world, alice)
    invited = await _issue(
        world,
        InviteMemberRequest(actor=alice, org_id=team, email="bob@example.com", role=Role.ADMIN),
    )
    bob = world.principal("bob")
    _join(world, team, bob, Role.MEMBER)

    await _accept(world).accept_for(bob.user, world.clock.now())
    await world.uow.commit()

    committed = world.store.committed
    assert committed.memberships[(team, bob.user.id_)].role is Role.MEMBER
    assert not committed.invitations[invited.id_].is_open
    assert committed.audit[-1].details["already_member"] == "true"
