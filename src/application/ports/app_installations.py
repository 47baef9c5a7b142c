from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.git.providers import ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.entities import AppInstallation, InstallationToken

__all__ = ("AppInstallationStore",)


class AppInstallationStore(Protocol):
    """The app's installations, kept in step with the provider's installation events, each with
    its current token sealed at rest. Transactional: the unit of work commits."""

    @abstractmethod
    async def put(self, installation: AppInstallation) -> None:
        """Keep it, replacing what was kept of it (its token stays)."""

    @abstractmethod
    async def get(self, provider: ProviderKind, installation_id: str) -> AppInstallation | None:
        """The installation with its cached token, if one is kept."""

    @abstractmethod
    async def delete(self, provider: ProviderKind, installation_id: str) -> bool: ...

    @abstractmethod
    async def list_for_org(self, org_id: OrgId) -> list[AppInstallation]: ...

    @abstractmethod
    async def store_token(
        self,
        provider: ProviderKind,
        installation_id: str,
        token: InstallationToken,
        *,
        replacing: datetime | None,
    ) -> bool:
        """Cache ``token`` if the one cached still expires at ``replacing`` (None: none is);
        False, changing nothing, when another server cached a newer one first."""
