from application.ports.access_revocations import AccessRevocations, MembershipChanged
from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization, OrgRepository
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError

__all__ = ("AccessChange", "MembershipChange")


class MembershipChange:
    """What every membership use case shares: the caller's view of the org, and the audit."""

    def __init__(self, orgs: OrgRepository, audit: AuditLog, uow: UnitOfWork, clock: Clock) -> None:
        self._orgs = orgs
        self._audit = audit
        self._uow = uow
        self._clock = clock

    async def _callers_view(self, actor: Principal, org_id: OrgId) -> MemberOrganization:
        """The org as the caller sees it; another tenant's org is reported as not found."""
        found = await self._orgs.get_for_member(org_id, actor.user.id_)
        if found is None or actor.bound_org_id not in (None, org_id):
            raise OrgNotFoundError
        return found

    async def _commit_with_audit(
        self,
        actor: Principal,
        org_id: OrgId,
        action: AuditAction,
        target: UserId,
        details: dict[str, str],
    ) -> None:
        await self._audit.append(
            AuditEvent(
                occurred_at=self._clock.now(),
                action=action,
                actor_id=actor.user.id_,
                org_id=org_id,
                target_type="user",
                target_id=str(target),
                details=details,
            )
        )
        await self._uow.commit()


class AccessChange(MembershipChange):
    """A membership change that can end or narrow someone's access in the organization."""

    def __init__(
        self,
        orgs: OrgRepository,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
        revocations: AccessRevocations,
    ) -> None:
        super().__init__(orgs, audit, uow, clock)
        self._revocations = revocations

    async def _announce(self, org_id: OrgId, *members: UserId) -> None:
        """Tell every server, after the commit, whose membership changed."""
        await self._revocations.publish([MembershipChanged(user, org_id) for user in members])
