from collections.abc import Callable

import pytest

from domain.organizations.entities import Organization, Role
from domain.organizations.errors import (
    NotAnOrgAdminError,
    OwnerMustTransferError,
    PersonalOrgMembershipError,
)
from domain.organizations.policy import (
    check_can_add,
    check_can_change_role,
    check_can_read_audit,
    check_can_remove,
    check_can_transfer,
)
from domain.shared.errors import PermissionDeniedError
from tests.factories import T0, create_org, create_user

TEAM, _ = create_org(create_user())
PERSONAL, _ = Organization.personal_for(owner=create_user().id_, display_name="P", now=T0)
OWN, ADM, MEM = Role.OWNER, Role.ADMIN, Role.MEMBER


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
def test_who_may_add_whom(actor: Role, new: Role, allowed: bool) -> None:
    if allowed:
        check_can_add(TEAM, actor, new)
    else:
        with pytest.raises(PermissionDeniedError):
            check_can_add(TEAM, actor, new)


@pytest.mark.parametrize(
    ("actor", "target", "new", "allowed"),
    [
        (OWN, MEM, ADM, True),
        (OWN, ADM, MEM, True),
        (ADM, MEM, ADM, False),
        (ADM, ADM, MEM, False),
        (MEM, MEM, ADM, False),
        (OWN, OWN, ADM, False),
        (OWN, MEM, OWN, False),
    ],
)
def test_who_may_change_roles(actor: Role, target: Role, new: Role, allowed: bool) -> None:
    if allowed:
        check_can_change_role(TEAM, actor, target, new)
    else:
        with pytest.raises(PermissionDeniedError):
            check_can_change_role(TEAM, actor, target, new)


@pytest.mark.parametrize(
    ("actor", "target", "is_self", "allowed"),
    [
        (OWN, ADM, False, True),
        (OWN, MEM, False, True),
        (ADM, MEM, False, True),
        (ADM, ADM, False, False),
        (MEM, MEM, False, False),
        (MEM, MEM, True, True),
        (ADM, ADM, True, True),
        (OWN, OWN, True, False),
        (ADM, OWN, False, False),
    ],
)
def test_who_may_remove_whom(actor: Role, target: Role, is_self: bool, allowed: bool) -> None:
    if allowed:
        check_can_remove(TEAM, actor, target, is_self=is_self)
    else:
        with pytest.raises(PermissionDeniedError):
            check_can_remove(TEAM, actor, target, is_self=is_self)


def test_the_owner_must_transfer_before_leaving() -> None:
    with pytest.raises(OwnerMustTransferError):
        check_can_remove(TEAM, OWN, OWN, is_self=True)


def test_personal_orgs_take_no_membership_changes() -> None:
    checks: list[Callable[[], None]] = [
        lambda: check_can_add(PERSONAL, OWN, MEM),
        lambda: check_can_change_role(PERSONAL, OWN, MEM, ADM),
        lambda: check_can_remove(PERSONAL, OWN, MEM, is_self=False),
        lambda: check_can_transfer(PERSONAL, OWN),
    ]
    for check in checks:
        with pytest.raises(PersonalOrgMembershipError):
            check()


def test_only_owner_transfers_and_only_managers_read_the_audit_log() -> None:
    check_can_transfer(TEAM, OWN)
    with pytest.raises(PermissionDeniedError):
        check_can_transfer(TEAM, ADM)
    check_can_read_audit(OWN)
    check_can_read_audit(ADM)
    with pytest.raises(NotAnOrgAdminError):
        check_can_read_audit(MEM)
