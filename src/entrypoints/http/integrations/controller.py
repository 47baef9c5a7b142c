from inspect import getdoc
from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get, put
from litestar.params import Parameter

from application.ports.org_repository import MemberOrganization
from application.resolver import (
    LinkAppInstallation,
    LinkAppInstallationRequest,
    ListAppInstallations,
)
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from entrypoints.http.auth import requires
from entrypoints.http.integrations.schemas import AppInstallationList, AppInstallationOut

__all__ = ("AppInstallationController",)

ADMIN = requires(Scope.ORG_ADMIN)

Provider = Annotated[ProviderKind, Parameter(description="The git host (`github`).")]
InstallationId = Annotated[
    str, Parameter(description="The installation's id at the provider.", max_length=20)
]


class AppInstallationController(Controller):
    path = "/api/integrations/{provider:str}/installations"
    tags = ["integrations"]  # noqa: RUF012

    @get(
        "/",
        operation_id="ListAppInstallations",
        description=getdoc(ListAppInstallations),
        opt=ADMIN,
    )
    @inject
    async def list_linked(
        self,
        provider: Provider,
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[ListAppInstallations],
    ) -> AppInstallationList:
        listed = await use_case.execute(org)
        return AppInstallationList(
            items=[AppInstallationOut.from_entity(i) for i in listed if i.provider is provider]
        )

    @put(
        "/{installation_id:str}",
        operation_id="LinkAppInstallation",
        description=getdoc(LinkAppInstallation),
        opt=ADMIN,
    )
    @inject
    async def link(
        self,
        provider: Provider,
        installation_id: InstallationId,
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[LinkAppInstallation],
    ) -> AppInstallationOut:
        linked = await use_case.execute(
            LinkAppInstallationRequest(
                actor=actor,
                org=org,
                provider=provider.value,
                installation_id=installation_id,
            )
        )
        return AppInstallationOut.from_entity(linked)
