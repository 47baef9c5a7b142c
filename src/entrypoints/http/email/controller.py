from inspect import getdoc

import msgspec
from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, post
from litestar.enums import MediaType
from litestar.params import JSONBody

from application.identity.change_email import ChangeEmail, ChangeEmailRequest
from application.identity.resend_verification_email import (
    ResendVerificationEmail,
    ResendVerificationEmailRequest,
)
from domain.identity.principals import Principal
from entrypoints.http.auth import OPEN_BEFORE_GATES
from entrypoints.http.identity.schemas import UserOut

__all__ = ("EmailController",)


class EmailChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: str


class EmailController(Controller):
    """Keycloak deployments: the caller's email address at the identity broker."""

    path = "/api/user/email"
    tags = ["users"]  # noqa: RUF012

    @post(
        "/",
        operation_id="ChangeEmail",
        description=getdoc(ChangeEmail),
        opt=OPEN_BEFORE_GATES,
        status_code=200,
    )
    @inject
    async def change(
        self,
        data: JSONBody[EmailChange],
        actor: FromDishka[Principal],
        use_case: FromDishka[ChangeEmail],
    ) -> UserOut:
        changed = await use_case.execute(ChangeEmailRequest(actor=actor, email=data.email))
        return UserOut.from_entity(changed.user)

    @post(
        "/verification",
        operation_id="ResendVerificationEmail",
        description=getdoc(ResendVerificationEmail),
        opt=OPEN_BEFORE_GATES,
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def resend(
        self, actor: FromDishka[Principal], use_case: FromDishka[ResendVerificationEmail]
    ) -> None:
        await use_case.execute(ResendVerificationEmailRequest(actor=actor))
