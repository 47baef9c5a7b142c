from inspect import getdoc
from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, delete, get, put
from litestar.params import JSONBody, Parameter

from application.git import (
    ConnectGitProvider,
    ConnectGitProviderRequest,
    DisconnectGitProvider,
    DisconnectGitProviderRequest,
    GetGitAccount,
    GetGitAccountRequest,
    ListGitConnections,
    ListGitConnectionsRequest,
)
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from entrypoints.http.auth import requires
from entrypoints.http.git.schemas import (
    GitAccountOut,
    GitConnect,
    GitConnectionList,
    GitConnectionOut,
)

__all__ = ("CONNECT_PATH", "GitConnectionController")

CONNECT_PATH = "/api/user/git-providers/{provider}"
"""Where a client connects (PUT) or disconnects (DELETE) one provider."""

READ = requires(Scope.GIT_READ)
WRITE = requires(Scope.GIT_WRITE)

Provider = Annotated[ProviderKind, Parameter(description="The git host.")]


class GitConnectionController(Controller):
    path = "/api/user/git-providers"
    tags = ["git providers"]  # noqa: RUF012

    @get("/", operation_id="ListGitConnections", description=getdoc(ListGitConnections), opt=READ)
    @inject
    async def list_mine(
        self, actor: FromDishka[Principal], use_case: FromDishka[ListGitConnections]
    ) -> GitConnectionList:
        listed = await use_case.execute(ListGitConnectionsRequest(actor=actor))
        return GitConnectionList(items=[GitConnectionOut.from_view(c) for c in listed.connections])

    @put(
        "/{provider:str}",
        operation_id="ConnectGitProvider",
        description=getdoc(ConnectGitProvider),
        opt=WRITE,
    )
    @inject
    async def connect(
        self,
        provider: Provider,
        data: JSONBody[GitConnect],
        actor: FromDishka[Principal],
        use_case: FromDishka[ConnectGitProvider],
    ) -> GitConnectionOut:
        connected = await use_case.execute(
            ConnectGitProviderRequest(
                actor=actor,
                provider=provider,
                token=data.token,
                base_url=data.base_url,
            )
        )
        return GitConnectionOut.from_view(connected.connection)

    @delete(
        "/{provider:str}",
        operation_id="DisconnectGitProvider",
        description=getdoc(DisconnectGitProvider),
        opt=WRITE,
    )
    @inject
    async def disconnect(
        self,
        provider: Provider,
        actor: FromDishka[Principal],
        use_case: FromDishka[DisconnectGitProvider],
    ) -> None:
        await use_case.execute(DisconnectGitProviderRequest(actor=actor, provider=provider))

    @get(
        "/{provider:str}/account",
        operation_id="GetGitAccount",
        description=getdoc(GetGitAccount),
        opt=READ,
    )
    @inject
    async def account(
        self,
        provider: Provider,
        actor: FromDishka[Principal],
        use_case: FromDishka[GetGitAccount],
    ) -> GitAccountOut:
        found = await use_case.execute(GetGitAccountRequest(actor=actor, provider=provider))
        return GitAccountOut.from_entity(found.account)
