from dataclasses import dataclass

from application.members._invitations import invitation_event
from application.members._shared import callers_view
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
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


class RevokeInvitation:
    """Withdraw an invitation before it is accepted. Owners and admins revoke invitations;
    only the owner revokes one to be an admin. Another organization's invitation is not
    found."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: RevokeInvitationRequest) -> None:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_manage_invitations(view.organization, view.role)
        invitation = await self._uow.invitations.get(request.org_id, request.invitation_id)
        if invitation is None:
            raise InvitationNotFoundError
        check_can_manage_invitations(view.organization, view.role, invitation.role)
        invitation.revoke(self._clock.now())
        await self._uow.invitations.save(invitation)
        await self._uow.audit.append(
            invitation_event(invitation, AuditAction.INVITATION_REVOKED, request.actor)
        )
        await self._uow.commit()
