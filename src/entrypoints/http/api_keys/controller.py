from inspect import getdoc
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from application.api_keys import (
    CreateApiKey,
    CreateApiKeyRequest,
    ListApiKeys,
    ListApiKeysRequest,
    RevokeApiKey,
    RevokeApiKeyRequest,
)
from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization
from domain.identity.api_keys import ApiKeyId
from domain.identity.principals import Principal
from entrypoints.http.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut
from entrypoints.http.auth import PEOPLE_ONLY

__all__ = ("ApiKeyController",)


class ApiKeyController(Controller):
    """Signed in as a person: an API key cannot list, make or revoke keys."""

    path = "/api/keys"
    tags = ["api keys"]  # noqa: RUF012
    opt = PEOPLE_ONLY

    @post("/", operation_id="CreateApiKey", description=getdoc(CreateApiKey))
    @inject
    async def create(
        self,
        data: JSONBody[ApiKeyCreate],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        clock: FromDishka[Clock],
        use_case: FromDishka[CreateApiKey],
    ) -> Response[ApiKeyCreated]:
        created = await use_case.execute(
            CreateApiKeyRequest(
                actor=actor,
                org=org,
                name=data.name,
                scopes=frozenset(data.scopes),
                expires_at=data.expires_at,
            )
        )
        body = ApiKeyCreated(
            key=ApiKeyOut.from_entity(created.key, clock.now()), token=str(created.token)
        )
        return Response(
            body,
            status_code=201,
            headers={"Location": f"{self.path}/{created.key.id_}", "Cache-Control": "no-store"},
        )

    @get("/", operation_id="ListApiKeys", description=getdoc(ListApiKeys))
    @inject
    async def list_mine(
        self,
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        clock: FromDishka[Clock],
        use_case: FromDishka[ListApiKeys],
    ) -> ApiKeyList:
        listed = await use_case.execute(ListApiKeysRequest(actor=actor, org=org))
        now = clock.now()
        return ApiKeyList(items=[ApiKeyOut.from_entity(key, now) for key in listed.keys])

    @delete("/{key_id:uuid}", operation_id="RevokeApiKey", description=getdoc(RevokeApiKey))
    @inject
    async def revoke(
        self,
        key_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[RevokeApiKey],
    ) -> None:
        await use_case.execute(RevokeApiKeyRequest(actor=actor, key_id=ApiKeyId(key_id)))
