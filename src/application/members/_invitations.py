from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.principals import Principal
from domain.organizations.invitations import Invitation

__all__ = ("invitation_event",)


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
