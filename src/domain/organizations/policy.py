"""Who may change whose membership. Pure rules; use cases load the facts and ask."""

from domain.organizations.entities import Organization, Role
from domain.organizations.errors import (
    NotAnOrgAdminError,
    OwnerMustTransferError,
    PersonalOrgMembershipError,
)
from domain.shared.errors import PermissionDeniedError

__all__ = (
    "check_can_add",
    "check_can_change_role",
    "check_can_invite",
    "check_can_manage_billing",
    "check_can_manage_invitations",
    "check_can_read_audit",
    "check_can_remove",
    "check_can_transfer",
)

_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


def _require_manager(actor_role: Role) -> None:
    if actor_role not in _MANAGERS:
        raise NotAnOrgAdminError


def _require_team(org: Organization) -> None:
    if org.is_personal:
        raise PersonalOrgMembershipError


def check_can_add(org: Organization, actor_role: Role, new_role: Role) -> None:
    """Owners and admins add members; only the owner adds admins; nobody adds an owner."""
    _require_team(org)
    _require_manager(actor_role)
    if new_role is Role.OWNER:
        raise PermissionDeniedError("An organization has one owner; transfer ownership instead.")
    if new_role is Role.ADMIN and actor_role is not Role.OWNER:
        raise PermissionDeniedError("Only the owner may make admins.")


def check_can_invite(org: Organization, actor_role: Role, new_role: Role) -> None:
    """Inviting someone follows the rules of adding them: owners and admins invite members,
    only the owner invites admins, nobody invites an owner."""
    check_can_add(org, actor_role, new_role)


def check_can_manage_invitations(
    org: Organization, actor_role: Role, invited_role: Role | None = None
) -> None:
    """Owners and admins see and revoke invitations; only the owner revokes an admin's."""
    _require_team(org)
    _require_manager(actor_role)
    if invited_role is Role.ADMIN and actor_role is not Role.OWNER:
        raise PermissionDeniedError("Only the owner may revoke an invitation to be an admin.")


def check_can_change_role(
    org: Organization, actor_role: Role, target_role: Role, new_role: Role
) -> None:
    """Only the owner moves people between member and admin; the owner's role only moves by
    transfer."""
    _require_team(org)
    _require_manager(actor_role)
    if Role.OWNER in (target_role, new_role):
        raise PermissionDeniedError("Ownership changes hands only by transfer.")
    if actor_role is not Role.OWNER:
        raise PermissionDeniedError("Only the owner may change roles.")


def check_can_remove(
    org: Organization, actor_role: Role, target_role: Role, *, is_self: bool
) -> None:
    """Anyone may leave but the owner; admins remove members; the owner removes admins too."""
    _require_team(org)
    if target_role is Role.OWNER:
        raise OwnerMustTransferError
    if is_self:
        return
    _require_manager(actor_role)
    if target_role is Role.ADMIN and actor_role is not Role.OWNER:
        raise PermissionDeniedError("Only the owner may remove an admin.")


def check_can_transfer(org: Organization, actor_role: Role) -> None:
    _require_team(org)
    if actor_role is not Role.OWNER:
        raise PermissionDeniedError("Only the owner may transfer ownership.")


def check_can_read_audit(actor_role: Role) -> None:
    _require_manager(actor_role)


def check_can_manage_billing(actor_role: Role) -> None:
    """Owners and admins buy credits, subscribe, open the billing portal, read the ledger and
    the organization's usage, and set its caps."""
    _require_manager(actor_role)
