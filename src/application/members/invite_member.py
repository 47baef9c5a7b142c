from dataclasses import dataclass

from application.mail import OutgoingMail, mail_job
from application.members._invitation_mail import invitation_mail
from application.members._invitations import invitation_event
from application.members._shared import callers_view
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.identity.principals import Principal
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import InvitationAlreadyPendingError, MemberAlreadyExistsError
from domain.organizations.invitations import Invitation, InvitationStatus
from domain.organizations.policy import check_can_invite

__all__ = ("InviteMember", "InviteMemberRequest", "InviteMemberResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteMemberRequest:
    actor: Principal
    org_id: OrgId
    email: str
    role: Role = Role.MEMBER


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteMemberResult:
    invitation: Invitation


class InviteMember:
    """Invite someone by email, whether or not they have signed in before.

    Owners and admins invite members; only the owner invites admins; personal organizations
    take no one. The invitation is accepted when someone signs in with that address, verified
    by the identity provider, within 14 days. An address has one pending invitation per
    organization; an expired one is replaced. Someone who is already a member is refused. The
    invitation mail is enqueued with the invitation, so it is sent once it is stored, and only
    then.
    """

    def __init__(
        self, uow: UnitOfWork, clock: Clock, outgoing: OutgoingMail, metrics: Metrics
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._outgoing = outgoing
        self._metrics = metrics

    async def execute(self, request: InviteMemberRequest) -> InviteMemberResult:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_invite(view.organization, view.role, request.role)
        email = EmailAddress(request.email)
        known = await self._uow.users.find_by_email(email)
        if known is not None and await self._uow.orgs.get_for_member(request.org_id, known.id_):
            raise MemberAlreadyExistsError
        now = self._clock.now()
        previous = await self._uow.invitations.find_open(request.org_id, email)
        if previous is not None:
            if previous.status(now) is InvitationStatus.PENDING:
                raise InvitationAlreadyPendingError
            previous.revoke(now)
            await self._uow.invitations.save(previous)
        invitation = Invitation.issue(
            org_id=request.org_id,
            email=email,
            role=request.role,
            invited_by=request.actor.user.id_,
            now=now,
        )
        await self._uow.invitations.add(invitation)
        await self._uow.audit.append(
            invitation_event(invitation, AuditAction.INVITATION_CREATED, request.actor)
        )
        mail = invitation_mail(self._outgoing, invitation, view.organization, request.actor.user)
        job = mail_job(mail)
        added = await self._uow.jobs.enqueue(job, now)
        await self._uow.commit()
        if added:
            self._metrics.job_enqueued(job.kind)
        return InviteMemberResult(invitation=invitation)
