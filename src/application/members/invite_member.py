from dataclasses import dataclass

from application.members._invitations import InvitationChange, invitation_event
from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.invitation_repository import InvitationRepository
from application.ports.org_repository import OrgRepository
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserRepository
from domain.audit.entities import AuditAction
from domain.identity.principals import Principal
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import InvitationAlreadyPendingError, MemberAlreadyExistsError
from domain.organizations.invitations import Invitation, InvitationStatus
from domain.organizations.policy import check_can_invite

__all__ = ("InviteMember", "InviteMemberRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteMemberRequest:
    actor: Principal
    org_id: OrgId
    email: str
    role: Role = Role.MEMBER


class InviteMember(InvitationChange):
    """Invite someone by email, whether or not they have signed in before.

    Owners and admins invite members; only the owner invites admins; personal organizations
    take no one. The invitation is accepted when someone signs in with that address, verified
    by the identity provider, within 14 days. An address has one pending invitation per
    organization; an expired one is replaced. Someone who is already a member is refused.
    """

    def __init__(
        self,
        orgs: OrgRepository,
        invitations: InvitationRepository,
        users: UserRepository,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        super().__init__(orgs, invitations, audit, uow, clock)
        self._users = users

    async def execute(self, request: InviteMemberRequest) -> Invitation:
        view = await self._callers_view(request.actor, request.org_id)
        check_can_invite(view.organization, view.role, request.role)
        email = EmailAddress(request.email)
        known = await self._users.find_by_email(email)
        if known is not None and await self._orgs.get_for_member(request.org_id, known.id_):
            raise MemberAlreadyExistsError
        now = self._clock.now()
        previous = await self._invitations.find_open(request.org_id, email)
        if previous is not None:
            if previous.status(now) is InvitationStatus.PENDING:
                raise InvitationAlreadyPendingError
            previous.revoke(now)
            await self._invitations.save(previous)
        invitation = Invitation.issue(
            org_id=request.org_id,
            email=email,
            role=request.role,
            invited_by=request.actor.user.id_,
            now=now,
        )
        await self._invitations.add(invitation)
        await self._audit.append(
            invitation_event(invitation, AuditAction.INVITATION_CREATED, request.actor)
        )
        await self._uow.commit()
        return invitation
