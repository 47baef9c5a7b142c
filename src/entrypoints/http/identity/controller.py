from inspect import getdoc

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get

from application.identity.get_current_user import GetCurrentUser
from application.ports.authenticator import Principal
from entrypoints.http.identity.schemas import UserOut

__all__ = ("UserController",)


class UserController(Controller):
    path = "/api/user"
    tags = ["users"]  # noqa: RUF012

    @get("/me", operation_id="GetCurrentUser", description=getdoc(GetCurrentUser))
    @inject
    async def me(
        self, actor: FromDishka[Principal], use_case: FromDishka[GetCurrentUser]
    ) -> UserOut:
        return UserOut.from_entity(await use_case.execute(actor))
