from dataclasses import dataclass

from application.members._invitations import InvitationChange, invitation_event
from domain.audit.entities import AuditAction
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import InvitationNotFoundError
from domain.organizations.invitations import InvitationId
from domain.organizations.policy import check_can_manage_invitations

__all__ = ("RevokeInvitation", "RevokeInvitationRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeInvitationRequest:
    actor: Principal
    org_id: OrgId
    invitation_id: InvitationId


class RevokeInvitation(InvitationChange):
    """Withdraw an invitation before it is accepted. Owners and admins revoke invitations;
    only the owner revokes one to be an admin. Another organization's invitation is not
    found."""

    async def execute(self, request: RevokeInvitationRequest) -> None:
        view = await self._callers_view(request.actor, request.org_id)
        check_can_manage_invitations(view.organization, view.role)
        invitation = await self._invitations.get(request.org_id, request.invitation_id)
        if invitation is None:
            raise InvitationNotFoundError
        check_can_manage_invitations(view.organization, view.role, invitation.role)
        invitation.revoke(self._clock.now())
        await self._invitations.save(invitation)
        await self._audit.append(
            invitation_event(invitation, AuditAction.INVITATION_REVOKED, request.actor)
        )
        await self._uow.commit()
