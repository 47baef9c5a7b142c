from inspect import getdoc
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from application.organizations import (
    CreateOrganization,
    CreateOrganizationRequest,
    GetOrganization,
    GetOrganizationRequest,
    ListMyOrganizations,
    ListMyOrganizationsRequest,
)
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from entrypoints.http.organizations.schemas import OrgCreate, OrgList, OrgOut

__all__ = ("OrganizationController",)


class OrganizationController(Controller):
    path = "/api/orgs"
    tags = ["organizations"]  # noqa: RUF012

    @post("/", operation_id="CreateOrganization", description=getdoc(CreateOrganization))
    @inject
    async def create(
        self,
        data: JSONBody[OrgCreate],
        actor: FromDishka[Principal],
        use_case: FromDishka[CreateOrganization],
    ) -> Response[OrgOut]:
        created = await use_case.execute(
            CreateOrganizationRequest(actor=actor, name=data.name, slug=data.slug)
        )
        body = OrgOut.from_view(created.org)
        return Response(body, status_code=201, headers={"Location": f"{self.path}/{body.id}"})

    @get("/", operation_id="ListOrganizations", description=getdoc(ListMyOrganizations))
    @inject
    async def list_mine(
        self, actor: FromDishka[Principal], use_case: FromDishka[ListMyOrganizations]
    ) -> OrgList:
        listed = await use_case.execute(ListMyOrganizationsRequest(actor=actor))
        return OrgList(items=[OrgOut.from_view(view) for view in listed.orgs])

    @get("/{org_id:uuid}", operation_id="GetOrganization", description=getdoc(GetOrganization))
    @inject
    async def get_one(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[GetOrganization],
    ) -> OrgOut:
        found = await use_case.execute(GetOrganizationRequest(actor=actor, org_id=OrgId(org_id)))
        return OrgOut.from_view(found.org)
