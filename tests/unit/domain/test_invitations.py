from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.errors import InvalidEmailError
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import Organization, Role
from domain.organizations.errors import (
    InvitationNotPendingError,
    NotAnOrgAdminError,
    PersonalOrgMembershipError,
)
from domain.organizations.invitations import INVITATION_TTL, Invitation, InvitationStatus
from domain.organizations.policy import check_can_invite, check_can_manage_invitations
from domain.shared.errors import PermissionDeniedError
from tests.factories import T0, create_org, create_user

TEAM, _ = create_org(create_user())
PERSONAL, _ = Organization.personal_for(owner=create_user().id_, display_name="P", now=T0)
OWN, ADM, MEM = Role.OWNER, Role.ADMIN, Role.MEMBER


def _invitation(email: str = "Ada@Example.COM", role: Role = MEM) -> Invitation:
    return Invitation.issue(
        org_id=TEAM.id_, email=EmailAddress(email), role=role, invited_by=TEAM.created_by, now=T0
    )


@pytest.mark.parametrize(
    ("actor", "new", "allowed"),
    [
        (OWN, MEM, True),
        (OWN, ADM, True),
        (ADM, MEM, True),
        (ADM, ADM, False),
        (MEM, MEM, False),
        (OWN, OWN, False),
    ],
)
def test_who_may_invite_whom_follows_who_may_add_whom(
    actor: Role, new: Role, allowed: bool
) -> None:
    if allowed:
        check_can_invite(TEAM, actor, new)
    else:
        with pytest.raises(PermissionDeniedError):
            check_can_invite(TEAM, actor, new)


def test_a_personal_org_invites_nobody() -> None:
    with pytest.raises(PersonalOrgMembershipError):
        check_can_invite(PERSONAL, OWN, MEM)
    with pytest.raises(PersonalOrgMembershipError):
        check_can_manage_invitations(PERSONAL, OWN)


@pytest.mark.parametrize(
    ("actor", "invited", "allowed"),
    [
        (OWN, ADM, True),
        (OWN, MEM, True),
        (ADM, MEM, True),
        (ADM, ADM, False),
        (MEM, MEM, False),
    ],
)
def test_owners_and_admins_revoke_but_only_the_owner_an_admins_invitation(
    actor: Role, invited: Role, allowed: bool
) -> None:
    if allowed:
        check_can_manage_invitations(TEAM, actor, invited)
    else:
        with pytest.raises(PermissionDeniedError):
            check_can_manage_invitations(TEAM, actor, invited)


def test_members_may_not_see_invitations() -> None:
    with pytest.raises(NotAnOrgAdminError):
        check_can_manage_invitations(TEAM, MEM)


def test_an_invitation_is_pending_for_fourteen_days_then_expires() -> None:
    sut = _invitation()
    assert sut.expires_at - sut.created_at == INVITATION_TTL == timedelta(days=14)
    assert sut.status(T0) is InvitationStatus.PENDING
    assert sut.status(sut.expires_at - timedelta(seconds=1)) is InvitationStatus.PENDING
    assert sut.status(sut.expires_at) is InvitationStatus.EXPIRED
    with pytest.raises(InvitationNotPendingError):
        sut.accept(sut.expires_at)
    assert sut.is_open


def test_nobody_is_invited_as_owner() -> None:
    with pytest.raises(PermissionDeniedError):
        _invitation(role=OWN)


def test_the_email_is_normalised_like_a_users_and_matched_without_case() -> None:
    sut = _invitation("  Ada@Example.COM ")
    assert sut.email.value == "Ada@example.com"
    assert sut.email_key == "ada@example.com"
    with pytest.raises(InvalidEmailError):
        _invitation("not-an-address")


def test_accepting_or_revoking_closes_it_once() -> None:
    accepted, revoked = _invitation(), _invitation()
    accepted.accept(T0 + timedelta(hours=1))
    revoked.revoke(T0 + timedelta(hours=2))
    assert accepted.status(T0) is InvitationStatus.ACCEPTED
    assert revoked.status(T0) is InvitationStatus.REVOKED
    assert not accepted.is_open
    assert not revoked.is_open
    for closed in (accepted, revoked):
        with pytest.raises(InvitationNotPendingError):
            closed.accept(T0)
        with pytest.raises(InvitationNotPendingError):
            closed.revoke(T0)


def test_an_expired_invitation_can_still_be_revoked() -> None:
    sut = _invitation()
    sut.revoke(sut.expires_at + timedelta(days=1))
    assert sut.status(T0) is InvitationStatus.REVOKED


@given(st.integers(min_value=0, max_value=60 * 24 * 30))
def test_status_is_pending_exactly_before_expiry(minutes: int) -> None:
    sut = _invitation()
    moment = T0 + timedelta(minutes=minutes)
    expected = InvitationStatus.PENDING if moment < sut.expires_at else InvitationStatus.EXPIRED
    assert sut.status(moment) is expected
