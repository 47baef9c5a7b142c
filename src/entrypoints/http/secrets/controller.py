from inspect import getdoc

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from application.secrets import (
    CreateSecret,
    CreateSecretRequest,
    DeleteSecret,
    DeleteSecretRequest,
    ListSecrets,
    ListSecretsRequest,
    UpdateSecret,
    UpdateSecretRequest,
)
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from entrypoints.http.auth import READS_ONLY, requires
from entrypoints.http.secrets.schemas import SecretCreate, SecretList, SecretOut, SecretUpdate

__all__ = ("SecretController",)

READ = {**requires(Scope.SECRETS_READ), **READS_ONLY}
WRITE = requires(Scope.SECRETS_WRITE)


class SecretController(Controller):
    path = "/api/secrets"
    tags = ["secrets"]  # noqa: RUF012

    @get("/", operation_id="ListSecrets", description=getdoc(ListSecrets), opt=READ)
    @inject
    async def list_secrets(
        self, actor: FromDishka[Principal], use_case: FromDishka[ListSecrets]
    ) -> SecretList:
        found = await use_case.execute(ListSecretsRequest(actor=actor))
        return SecretList(items=[SecretOut.from_entity(s) for s in found.secrets])

    @post("/", operation_id="CreateSecret", description=getdoc(CreateSecret), opt=WRITE)
    @inject
    async def create_secret(
        self,
        data: JSONBody[SecretCreate],
        actor: FromDishka[Principal],
        use_case: FromDishka[CreateSecret],
    ) -> Response[SecretOut]:
        created = await use_case.execute(
            CreateSecretRequest(
                actor=actor, name=data.name, value=data.value, description=data.description
            )
        )
        return Response(
            SecretOut.from_entity(created.secret),
            status_code=201,
            headers={"Location": f"{self.path}/{created.secret.name}"},
        )

    @put("/{name:str}", operation_id="UpdateSecret", description=getdoc(UpdateSecret), opt=WRITE)
    @inject
    async def update_secret(
        self,
        name: FromPath[str],
        data: JSONBody[SecretUpdate],
        actor: FromDishka[Principal],
        use_case: FromDishka[UpdateSecret],
    ) -> SecretOut:
        updated = await use_case.execute(
            UpdateSecretRequest(
                actor=actor,
                name=name,
                value=data.value if isinstance(data.value, str) else None,
                description=data.description if isinstance(data.description, str) else None,
                clear_description=data.description is None,
            )
        )
        return SecretOut.from_entity(updated.secret)

    @delete("/{name:str}", operation_id="DeleteSecret", description=getdoc(DeleteSecret), opt=WRITE)
    @inject
    async def delete_secret(
        self,
        name: FromPath[str],
        actor: FromDishka[Principal],
        use_case: FromDishka[DeleteSecret],
    ) -> None:
        await use_case.execute(DeleteSecretRequest(actor=actor, name=name))
