from inspect import getdoc

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get, post
from litestar.params import JSONBody

from application.identity.accept_terms import AcceptTerms, AcceptTermsRequest
from application.identity.get_current_user import GetCurrentUser, GetCurrentUserRequest
from domain.identity.principals import Principal
from entrypoints.http.auth import OPEN_BEFORE_GATES
from entrypoints.http.identity.schemas import TermsAcceptance, UserOut

__all__ = ("UserController",)


class UserController(Controller):
    path = "/api/user"
    tags = ["users"]  # noqa: RUF012

    @get(
        "/me",
        operation_id="GetCurrentUser",
        description=getdoc(GetCurrentUser),
        opt=OPEN_BEFORE_GATES,
    )
    @inject
    async def me(
        self, actor: FromDishka[Principal], use_case: FromDishka[GetCurrentUser]
    ) -> UserOut:
        found = await use_case.execute(GetCurrentUserRequest(actor=actor))
        return UserOut.from_entity(found.user)

    @post(
        "/terms",
        operation_id="AcceptTerms",
        description=getdoc(AcceptTerms),
        opt=OPEN_BEFORE_GATES,
        status_code=200,
    )
    @inject
    async def accept_terms(
        self,
        data: JSONBody[TermsAcceptance],
        actor: FromDishka[Principal],
        use_case: FromDishka[AcceptTerms],
    ) -> UserOut:
        accepted = await use_case.execute(AcceptTermsRequest(actor=actor, version=data.version))
        return UserOut.from_entity(accepted.user)
