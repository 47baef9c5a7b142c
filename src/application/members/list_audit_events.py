from dataclasses import dataclass

from application.members._shared import MembershipChange
from application.ports.audit_log import AuditCursor
from domain.audit.entities import AuditEvent
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.policy import check_can_read_audit

__all__ = ("ListAuditEvents", "ListAuditEventsRequest")

MAX_LIMIT = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAuditEventsRequest:
    actor: Principal
    org_id: OrgId
    limit: int = 50
    before: AuditCursor | None = None


class ListAuditEvents(MembershipChange):
    """The newest audit events of an organization, newest first, a page at a time (follow
    ``nextCursor``); for its owner and admins only."""

    async def execute(self, request: ListAuditEventsRequest) -> list[AuditEvent]:
        view = await self._callers_view(request.actor, request.org_id)
        check_can_read_audit(view.role)
        return await self._audit.list_for_org(
            request.org_id, limit=max(1, min(request.limit, MAX_LIMIT)), before=request.before
        )
