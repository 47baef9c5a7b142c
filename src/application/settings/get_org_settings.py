from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from application.settings._shared import callers_view
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.settings.entities import OrgSettings

__all__ = ("GetOrgSettings", "GetOrgSettingsRequest", "GetOrgSettingsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrgSettingsRequest:
    actor: Principal
    org_id: OrgId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrgSettingsResult:
    settings: OrgSettings
    """Empty values where the organization chose nothing."""


class GetOrgSettings:
    """An organization's default settings. Any member may read them; to anyone else the
    organization does not exist."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: GetOrgSettingsRequest) -> GetOrgSettingsResult:
        await callers_view(self._uow.orgs, request.actor, request.org_id)
        stored = await self._uow.settings.get_org(request.org_id)
        return GetOrgSettingsResult(settings=stored or OrgSettings(org_id=request.org_id))
