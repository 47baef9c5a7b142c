from abc import abstractmethod
from typing import Protocol

from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.settings.entities import OrgSettings, UserSettings

__all__ = ("SettingsStore",)


class SettingsStore(Protocol):
    """A user's own settings and an organization's defaults; secrets among them (the LLM API
    key, the MCP configuration) are sealed at rest by the adapter, bound to their row.

    Transactional: the unit of work commits.
    """

    @abstractmethod
    async def get_user(self, user_id: UserId) -> UserSettings | None:
        """The user's own settings, or ``None`` if they never saved any."""

    @abstractmethod
    async def put_user(self, settings: UserSettings) -> None:
        """Store the user's settings, replacing what was stored."""

    @abstractmethod
    async def get_org(self, org_id: OrgId) -> OrgSettings | None:
        """The organization's defaults, or ``None`` if none were saved."""

    @abstractmethod
    async def put_org(self, settings: OrgSettings) -> None:
        """Store the organization's defaults, replacing what was stored."""
