from datetime import datetime

from application.ports.org_repository import MemberOrganization, OrgRepository
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError

__all__ = ("callers_view", "member_event")


async def callers_view(orgs: OrgRepository, actor: Principal, org_id: OrgId) -> MemberOrganization:
    """The org as the caller sees it; another tenant's org is reported as not found."""
    found = await orgs.get_for_member(org_id, actor.user.id_)
    if found is None or actor.bound_org_id not in (None, org_id):
        raise OrgNotFoundError
    return found


def member_event(
    actor: Principal,
    org_id: OrgId,
    action: AuditAction,
    target: UserId,
    details: dict[str, str],
    *,
    now: datetime,
) -> AuditEvent:
    """The audit of a change the caller made to someone's membership."""
    return AuditEvent(
        occurred_at=now,
        action=action,
        actor_id=actor.user.id_,
        org_id=org_id,
        target_type="user",
        target_id=str(target),
        details=details,
    )
