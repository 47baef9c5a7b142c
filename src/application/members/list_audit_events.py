from dataclasses import dataclass

from application.members._shared import callers_view
from application.ports.audit_log import AuditCursor
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditEvent
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.policy import check_can_read_audit

__all__ = ("ListAuditEvents", "ListAuditEventsRequest", "ListAuditEventsResult")

MAX_LIMIT = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAuditEventsRequest:
    actor: Principal
    org_id: OrgId
    limit: int = 50
    before: AuditCursor | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAuditEventsResult:
    events: list[AuditEvent]


class ListAuditEvents:
    """The newest audit events of an organization, newest first, a page at a time (each page
    names the cursor of the next); for its owner and admins only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListAuditEventsRequest) -> ListAuditEventsResult:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_read_audit(view.role)
        events = await self._uow.audit.list_for_org(
            request.org_id, limit=max(1, min(request.limit, MAX_LIMIT)), before=request.before
        )
        return ListAuditEventsResult(events=events)
