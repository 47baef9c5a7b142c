from application.members._shared import MembershipChange
from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.invitation_repository import InvitationRepository
from application.ports.org_repository import OrgRepository
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.principals import Principal
from domain.organizations.invitations import Invitation

__all__ = ("InvitationChange", "invitation_event")


def invitation_event(
    invitation: Invitation, action: AuditAction, actor: Principal | None, **details: str
) -> AuditEvent:
    return AuditEvent(
        occurred_at=invitation.revoked_at or invitation.accepted_at or invitation.created_at,
        action=action,
        actor_id=None if actor is None else actor.user.id_,
        org_id=invitation.org_id,
        target_type="invitation",
        target_id=str(invitation.id_),
        details={"email": invitation.email.value, "role": invitation.role.value, **details},
    )


class InvitationChange(MembershipChange):
    """What the invitation use cases share on top of membership changes: their repository."""

    def __init__(
        self,
        orgs: OrgRepository,
        invitations: InvitationRepository,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        super().__init__(orgs, audit, uow, clock)
        self._invitations = invitations
