from application.ports.audit_log import AuditCursor, AuditLog
from domain.audit.entities import AuditEvent
from domain.organizations.entities import OrgId
from tests.fakes.store import FakeStore


class FakeAuditLog(AuditLog):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def append(self, event: AuditEvent) -> None:
        self._store.live.audit.append(event)

    async def list_for_org(
        self, org_id: OrgId, *, limit: int = 100, before: AuditCursor | None = None
    ) -> list[AuditEvent]:
        mine = [
            e
            for e in self._store.live.audit
            if e.org_id == org_id
            and (before is None or (e.occurred_at, e.id_) < (before.occurred_at, before.event_id))
        ]
        return sorted(mine, key=lambda e: (e.occurred_at, e.id_), reverse=True)[:limit]
