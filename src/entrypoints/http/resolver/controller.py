from inspect import getdoc
from typing import Annotated
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, Parameter

from application.resolver import (
    DisableResolverRepository,
    DisableResolverRepositoryRequest,
    EnableResolverRepository,
    EnableResolverRepositoryRequest,
    GetResolverSettings,
    ListResolverRepositories,
    ResolverLinks,
    UpdateResolverSettings,
    UpdateResolverSettingsRequest,
)
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from entrypoints.http.auth import requires
from entrypoints.http.resolver.schemas import (
    ResolverRepositoryCreate,
    ResolverRepositoryList,
    ResolverRepositoryOut,
    ResolverSettingsIn,
    ResolverSettingsOut,
)

__all__ = ("ResolverRepositoryController", "ResolverSettingsController")

ADMIN = requires(Scope.ORG_ADMIN)

HookId = Annotated[str, Parameter(description="The enabled repository's id.", max_length=36)]


class ResolverRepositoryController(Controller):
    path = "/api/orgs/{org_id:uuid}/resolver/repositories"
    tags = ["integrations"]  # noqa: RUF012

    @get(
        "/",
        operation_id="ListResolverRepositories",
        description=getdoc(ListResolverRepositories),
        opt=ADMIN,
    )
    @inject
    async def list_enabled(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        links: FromDishka[ResolverLinks],
        use_case: FromDishka[ListResolverRepositories],
    ) -> ResolverRepositoryList:
        listed = await use_case.execute(actor, OrgId(org_id))
        return ResolverRepositoryList(
            items=[
                ResolverRepositoryOut.from_entity(h, links.webhook_url(h.provider)) for h in listed
            ]
        )

    @post(
        "/",
        operation_id="EnableResolverRepository",
        description=getdoc(EnableResolverRepository),
        opt=ADMIN,
    )
    @inject
    async def enable(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[ResolverRepositoryCreate],
        actor: FromDishka[Principal],
        use_case: FromDishka[EnableResolverRepository],
    ) -> Response[ResolverRepositoryOut]:
        enabled = await use_case.execute(
            EnableResolverRepositoryRequest(
                actor=actor,
                org_id=OrgId(org_id),
                provider=data.provider,
                repository=data.repository,
                install=data.install,
                group=data.group,
            )
        )
        return Response(ResolverRepositoryOut.from_enabled(enabled), status_code=201)

    @delete(
        "/{hook_id:str}",
        operation_id="DisableResolverRepository",
        description=getdoc(DisableResolverRepository),
        opt=ADMIN,
    )
    @inject
    async def disable(
        self,
        org_id: FromPath[UUID],
        hook_id: HookId,
        actor: FromDishka[Principal],
        use_case: FromDishka[DisableResolverRepository],
    ) -> None:
        await use_case.execute(
            DisableResolverRepositoryRequest(actor=actor, org_id=OrgId(org_id), hook_id=hook_id)
        )


class ResolverSettingsController(Controller):
    path = "/api/orgs/{org_id:uuid}/resolver/settings"
    tags = ["integrations"]  # noqa: RUF012

    @get(
        "/",
        operation_id="GetResolverSettings",
        description=getdoc(GetResolverSettings),
        opt=ADMIN,
    )
    @inject
    async def get_settings(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[GetResolverSettings],
    ) -> ResolverSettingsOut:
        return ResolverSettingsOut.from_view(await use_case.execute(actor, OrgId(org_id)))

    @put(
        "/",
        operation_id="UpdateResolverSettings",
        description=getdoc(UpdateResolverSettings),
        opt=ADMIN,
    )
    @inject
    async def update_settings(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[ResolverSettingsIn],
        actor: FromDishka[Principal],
        use_case: FromDishka[UpdateResolverSettings],
    ) -> ResolverSettingsOut:
        updated = await use_case.execute(
            UpdateResolverSettingsRequest(
                actor=actor,
                org_id=OrgId(org_id),
                label=data.label,
                handle=data.handle,
                max_runs_per_repository=data.max_runs_per_repository,
            )
        )
        return ResolverSettingsOut.from_view(updated)
