"""Deployments signing in through an identity provider other than Keycloak: this server
confirms the caller's address itself, by mail."""

from inspect import getdoc
from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get, post
from litestar.enums import MediaType
from litestar.params import QueryParameter
from litestar.response import Redirect

from application.identity.confirm_email import (
    CONFIRMATION_PATH,
    ConfirmEmail,
    ConfirmEmailRequest,
    SendEmailConfirmation,
    SendEmailConfirmationRequest,
)
from application.mail import OutgoingMail
from domain.identity.principals import Principal
from entrypoints.http.auth import OPEN_BEFORE_GATES
from entrypoints.http.openapi import problem_spec

__all__ = ("EmailConfirmationController", "EmailConfirmationLinkController")


class EmailConfirmationController(Controller):
    path = "/api/user/email"
    tags = ["users"]  # noqa: RUF012

    @post(
        "/verification",
        operation_id="ResendVerificationEmail",
        description=getdoc(SendEmailConfirmation),
        opt=OPEN_BEFORE_GATES,
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def send(
        self, actor: FromDishka[Principal], use_case: FromDishka[SendEmailConfirmation]
    ) -> None:
        await use_case.execute(SendEmailConfirmationRequest(actor=actor))


class EmailConfirmationLinkController(Controller):
    """The link in the confirmation mail: it is its own credential."""

    path = CONFIRMATION_PATH
    tags = ["users"]  # noqa: RUF012

    @get(
        "/",
        operation_id="ConfirmEmail",
        description=getdoc(ConfirmEmail),
        status_code=303,
        responses={
            400: problem_spec(400, "The link expired, or the address changed since it was sent.")
        },
    )
    @inject
    async def confirm(
        self,
        token: Annotated[str, QueryParameter(min_length=1, max_length=4096)],
        use_case: FromDishka[ConfirmEmail],
        outgoing: FromDishka[OutgoingMail],
    ) -> Redirect:
        await use_case.execute(ConfirmEmailRequest(token=token))
        return Redirect(f"{outgoing.public_url}/?email=confirmed", status_code=303)
