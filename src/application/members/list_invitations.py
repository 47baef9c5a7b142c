from dataclasses import dataclass

from application.members._invitations import InvitationChange
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.invitations import Invitation
from domain.organizations.policy import check_can_manage_invitations

__all__ = ("ListInvitations", "ListInvitationsRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInvitationsRequest:
    actor: Principal
    org_id: OrgId


class ListInvitations(InvitationChange):
    """The invitations of an organization that are neither accepted nor revoked, newest
    first, expired ones included; for its owner and admins only."""

    async def execute(self, request: ListInvitationsRequest) -> list[Invitation]:
        view = await self._callers_view(request.actor, request.org_id)
        check_can_manage_invitations(view.organization, view.role)
        return await self._invitations.list_open(request.org_id)
