from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.audit.entities import AuditEvent
from domain.organizations.entities import OrgId

__all__ = ("AuditCursor", "AuditLog")


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where a page of the audit log ended: the last event's time and id."""

    occurred_at: datetime
    event_id: UUID


class AuditLog(Protocol):
    """Append-only record of who changed what. Transactional: the unit of work commits."""

    @abstractmethod
    async def append(self, event: AuditEvent) -> None: ...

    @abstractmethod
    async def list_for_org(
        self, org_id: OrgId, *, limit: int = 100, before: AuditCursor | None = None
    ) -> list[AuditEvent]:
        """The newest ``limit`` events of one organization, newest first; with ``before``,
        those that come after that cursor in this order (older, or as old with a smaller
        id), so pages never overlap or skip an event however many are appended meanwhile."""
