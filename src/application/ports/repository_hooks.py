from abc import abstractmethod
from typing import Protocol

from domain.git.providers import ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.entities import RepositoryHook

__all__ = ("RepositoryHookStore",)


class RepositoryHookStore(Protocol):
    """The repositories the resolver is enabled on at providers with no app, each with its
    webhook's secret sealed at rest. Transactional: the unit of work commits."""

    @abstractmethod
    async def add(self, hook: RepositoryHook) -> bool:
        """Keep it; False, keeping nothing, when the repository (at that provider and web
        address) is enabled already."""

    @abstractmethod
    async def save(self, hook: RepositoryHook) -> None:
        """Write back what changed of a kept hook (its id at the provider)."""

    @abstractmethod
    async def get(self, hook_id: str) -> RepositoryHook | None: ...

    @abstractmethod
    async def for_repository(self, provider: ProviderKind, repository: str) -> list[RepositoryHook]:
        """The hooks on repositories of this full path (in any case), at every web address,
        and on the groups it lies under (its every parent path)."""

    @abstractmethod
    async def list_for_org(self, org_id: OrgId) -> list[RepositoryHook]:
        """Ordered by provider and repository."""

    @abstractmethod
    async def delete(self, hook_id: str) -> bool: ...
