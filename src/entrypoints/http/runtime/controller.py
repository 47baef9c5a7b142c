from datetime import datetime
from inspect import getdoc
from typing import Annotated

import msgspec
from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Request, Response, get
from litestar.params import HeaderParameter

from application.errors import NotAuthenticatedError
from application.git.exchange_runtime_git_credential import (
    ExchangeRuntimeGitCredential,
    ExchangeRuntimeGitCredentialRequest,
)

__all__ = ("RuntimeController",)

CREDENTIAL_HEADER = "X-Access-Token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JSON = "application/json"
PLAIN = "text/plain"


class RuntimeGitToken(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A provider token for the agent runtime; never cached, never logged."""

    provider: str
    token: str
    base_url: str
    expires_at: datetime | None


class RuntimeController(Controller):
    """Routes the agent runtime calls. They take no session or API key: the short-lived signed
    credential the runtime was handed is the only authentication."""

    path = "/api/runtime"
    tags = ["runtime"]  # noqa: RUF012

    @get(
        "/git-token",
        operation_id="ExchangeRuntimeGitCredential",
        description=getdoc(ExchangeRuntimeGitCredential),
        security=[{"runtimeCredential": []}],
    )
    @inject
    async def git_token(
        self,
        request: Request,  # type: ignore[type-arg]
        use_case: FromDishka[ExchangeRuntimeGitCredential],
        credential: Annotated[
            str | None, HeaderParameter(name=CREDENTIAL_HEADER, required=False, max_length=4096)
        ] = None,
    ) -> Response[RuntimeGitToken] | Response[str]:
        """JSON by default; ``Accept: text/plain`` answers the bare token, as the agent-server's
        looked-up secrets and git credential helpers read it."""
        if not credential:
            raise NotAuthenticatedError(f"Send the runtime credential in {CREDENTIAL_HEADER}.")
        exchanged = await use_case.execute(
            ExchangeRuntimeGitCredentialRequest(credential=credential)
        )
        token = exchanged.token
        if request.accept.best_match([JSON, PLAIN], default=JSON) == PLAIN:
            return Response(token.access_token, media_type=PLAIN, headers=NO_STORE, status_code=200)
        return Response(
            RuntimeGitToken(
                provider=token.provider.value,
                token=token.access_token,
                base_url=token.host.web_url,
                expires_at=token.expires_at,
            ),
            headers=NO_STORE,
        )
