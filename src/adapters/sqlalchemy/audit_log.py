from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import AuditEventRow
from application.ports.audit_log import AuditCursor, AuditLog
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId

__all__ = ("SqlaAuditLog",)


def _to_entity(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id_=row.id,
        occurred_at=row.occurred_at,
        action=AuditAction(row.action),
        actor_id=None if row.actor_id is None else UserId(row.actor_id),
        org_id=None if row.org_id is None else OrgId(row.org_id),
        target_type=row.target_type,
        target_id=row.target_id,
        details={str(k): str(v) for k, v in row.details.items()},
    )


class SqlaAuditLog(AuditLog):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: AuditEvent) -> None:
        async with translate_db_errors():
            self._session.add(
                AuditEventRow(
                    id=event.id_,
                    occurred_at=event.occurred_at,
                    action=event.action.value,
                    actor_id=event.actor_id,
                    org_id=event.org_id,
                    target_type=event.target_type,
                    target_id=event.target_id,
                    details=dict(event.details),
                )
            )
            await self._session.flush()

    async def list_for_org(
        self, org_id: OrgId, *, limit: int = 100, before: AuditCursor | None = None
    ) -> list[AuditEvent]:
        query = select(AuditEventRow).where(AuditEventRow.org_id == org_id)
        if before is not None:
            query = query.where(
                or_(
                    AuditEventRow.occurred_at < before.occurred_at,
                    and_(
                        AuditEventRow.occurred_at == before.occurred_at,
                        AuditEventRow.id < before.event_id,
                    ),
                )
            )
        query = query.order_by(AuditEventRow.occurred_at.desc(), AuditEventRow.id.desc()).limit(
            limit
        )
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [_to_entity(row) for row in rows]
