from abc import abstractmethod
from typing import Protocol

from domain.audit.entities import AuditEvent
from domain.organizations.entities import OrgId

__all__ = ("AuditLog",)


class AuditLog(Protocol):
    """Append-only record of who changed what. Transactional: the unit of work commits."""

    @abstractmethod
    async def append(self, event: AuditEvent) -> None: ...

    @abstractmethod
    async def list_for_org(self, org_id: OrgId, *, limit: int = 100) -> list[AuditEvent]:
        """The newest ``limit`` events of one organization, newest first."""
