from inspect import getdoc
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from application.ports.org_repository import MemberOrganization
from application.settings import (
    GetOrgSettings,
    GetOrgSettingsRequest,
    GetSettings,
    GetSettingsRequest,
    UpdateOrgSettings,
    UpdateOrgSettingsRequest,
    UpdateSettings,
    UpdateSettingsRequest,
)
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from entrypoints.http.auth import READS_ONLY, requires
from entrypoints.http.settings.schemas import OrgSettingsOut, SettingsOut, SettingsUpdate

__all__ = ("OrgSettingsController", "SettingsController")

READ = {**requires(Scope.SETTINGS_READ), **READS_ONLY}
WRITE = requires(Scope.SETTINGS_WRITE)


class SettingsController(Controller):
    path = "/api/settings"
    tags = ["settings"]  # noqa: RUF012

    @get("/", operation_id="GetSettings", description=getdoc(GetSettings), opt=READ)
    @inject
    async def get_settings(
        self,
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[GetSettings],
    ) -> SettingsOut:
        found = await use_case.execute(GetSettingsRequest(actor=actor, org=org))
        return SettingsOut.from_view(found.settings)

    @post(
        "/",
        operation_id="UpdateSettings",
        description=getdoc(UpdateSettings),
        opt=WRITE,
        status_code=200,
    )
    @inject
    async def update_settings(
        self,
        data: JSONBody[SettingsUpdate],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[UpdateSettings],
    ) -> SettingsOut:
        updated = await use_case.execute(
            UpdateSettingsRequest(actor=actor, org=org, changes=data.changes())
        )
        return SettingsOut.from_view(updated.settings)


class OrgSettingsController(Controller):
    path = "/api/orgs/{org_id:uuid}/settings"
    tags = ["settings"]  # noqa: RUF012

    @get("/", operation_id="GetOrgSettings", description=getdoc(GetOrgSettings), opt=READ)
    @inject
    async def get_org_settings(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[GetOrgSettings],
    ) -> OrgSettingsOut:
        found = await use_case.execute(GetOrgSettingsRequest(actor=actor, org_id=OrgId(org_id)))
        return OrgSettingsOut.from_entity(found.settings)

    @post(
        "/",
        operation_id="UpdateOrgSettings",
        description=getdoc(UpdateOrgSettings),
        opt=WRITE,
        status_code=200,
    )
    @inject
    async def update_org_settings(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[SettingsUpdate],
        actor: FromDishka[Principal],
        use_case: FromDishka[UpdateOrgSettings],
    ) -> OrgSettingsOut:
        updated = await use_case.execute(
            UpdateOrgSettingsRequest(actor=actor, org_id=OrgId(org_id), changes=data.changes())
        )
        return OrgSettingsOut.from_entity(updated.settings)
