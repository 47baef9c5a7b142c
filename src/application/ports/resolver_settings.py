from abc import abstractmethod
from typing import Protocol

from domain.organizations.entities import OrgId
from domain.resolver.entities import ResolverSettings

__all__ = ("ResolverSettingsStore",)


class ResolverSettingsStore(Protocol):
    """Each organization's resolver settings. Transactional: the unit of work commits."""

    @abstractmethod
    async def get(self, org_id: OrgId) -> ResolverSettings | None: ...

    @abstractmethod
    async def put(self, settings: ResolverSettings) -> None:
        """Keep them, replacing the organization's previous ones."""
