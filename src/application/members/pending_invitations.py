from datetime import datetime

from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import User
from domain.organizations.entities import Membership
from domain.organizations.invitations import InvitationStatus

__all__ = ("PendingInvitations",)


class PendingInvitations:
    """Turns the pending invitations for a user's address into memberships, inside the caller's
    unit of work (sign-in commits it); it never commits.

    Only an address the identity provider verified accepts anything: otherwise whoever claims
    an address at a provider that does not check it would join the organizations that invited
    it. Expired invitations stay as they are. Someone who became a member meanwhile keeps
    their role, and the invitation is closed as accepted.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def accept_for(self, user: User, now: datetime) -> None:
        if not user.email_verified:
            return
        for invitation in await self._uow.invitations.list_open_for_email(user.email):
            if invitation.status(now) is not InvitationStatus.PENDING:
                continue
            already = await self._uow.orgs.get_for_member(invitation.org_id, user.id_)
            invitation.accept(now)
            await self._uow.invitations.save(invitation)
            details = {
                "email": invitation.email.value,
                "role": invitation.role.value if already is None else already.role.value,
                "invitation_id": str(invitation.id_),
            }
            if already is None:
                await self._uow.orgs.add_member(
                    Membership(
                        org_id=invitation.org_id,
                        user_id=user.id_,
                        role=invitation.role,
                        joined_at=now,
                    )
                )
                await self._uow.audit.append(
                    AuditEvent(
                        occurred_at=now,
                        action=AuditAction.MEMBER_ADDED,
                        actor_id=invitation.invited_by,
                        org_id=invitation.org_id,
                        target_type="user",
                        target_id=str(user.id_),
                        details=details,
                    )
                )
            await self._uow.audit.append(
                AuditEvent(
                    occurred_at=now,
                    action=AuditAction.INVITATION_ACCEPTED,
                    actor_id=user.id_,
                    org_id=invitation.org_id,
                    target_type="invitation",
                    target_id=str(invitation.id_),
                    details={**details, "already_member": str(already is not None).lower()},
                )
            )
