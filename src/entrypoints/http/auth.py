"""The one auth guard: every non-public route and websocket resolves its principal here."""

from typing import Any

from dishka import AsyncContainer
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from application.errors import NotAuthenticatedError
from application.ports.authenticator import Authenticator, Credentials, Principal

__all__ = ("current_principal", "require_principal")

_PRINCIPAL_KEY = "principal"


async def require_principal(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    container: AsyncContainer = connection.state.dishka_container
    authenticator = await container.get(Authenticator)
    credentials = Credentials(
        authorization=connection.headers.get("authorization"), cookies=connection.cookies
    )
    principal = await authenticator.authenticate(credentials)
    if principal is None:
        raise NotAuthenticatedError
    connection.scope["state"][_PRINCIPAL_KEY] = principal


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal ``require_principal`` resolved for this connection."""
    principal = connection.scope.get("state", {}).get(_PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise NotAuthenticatedError
    return principal
