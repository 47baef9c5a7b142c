"""Who may change an organization's default settings. Pure rules; use cases load the facts."""

from domain.organizations.entities import Role
from domain.organizations.errors import NotAnOrgAdminError

__all__ = ("check_can_change_org_settings",)


def check_can_change_org_settings(actor_role: Role) -> None:
    """Owners and admins set the defaults; every member reads them."""
    if actor_role not in {Role.OWNER, Role.ADMIN}:
        raise NotAnOrgAdminError
