from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute

from entrypoints.http.api_keys import ApiKeyController
from entrypoints.http.auth import require_principal
from entrypoints.http.billing import BillingController
from entrypoints.http.conversations import ConversationController, conversation_socket
from entrypoints.http.decoding import DecodingRequest, screen_request
from entrypoints.http.email import EmailController
from entrypoints.http.email.confirmation import (
    EmailConfirmationController,
    EmailConfirmationLinkController,
)
from entrypoints.http.errors import exception_handlers
from entrypoints.http.git import GitConnectionController
from entrypoints.http.health import HealthController
from entrypoints.http.identity import UserController
from entrypoints.http.integrations import AppInstallationController
from entrypoints.http.members import InvitationController, MemberController
from entrypoints.http.metrics import MetricsController
from entrypoints.http.openapi import ClosedStructSchemaPlugin, document_problems
from entrypoints.http.organizations import OrganizationController
from entrypoints.http.rate_limits import add_rate_limit_headers, limit_anonymous
from entrypoints.http.repositories import RepositoryController
from entrypoints.http.request_id import REQUEST_ID_HEADER, RequestIdMiddleware
from entrypoints.http.resolver import ResolverRepositoryController, ResolverSettingsController
from entrypoints.http.runtime import RuntimeController
from entrypoints.http.secrets import SecretController
from entrypoints.http.settings import OrgSettingsController, SettingsController
from entrypoints.http.sign_in import SessionController, SignInController
from entrypoints.http.usage import MemberCapController, OrgUsageController, UserUsageController
from entrypoints.http.webhooks import WebhookController

__all__ = ("build_http_app", "build_metrics_app", "install_request_id")

MAX_BODY_BYTES = 1024 * 1024


def build_metrics_app() -> Litestar:
    """The scrape target alone, for a process that serves no API (``maestrist worker``): the
    same route, token and problem documents as the server's ``/metrics``."""
    return Litestar(
        route_handlers=[MetricsController],
        exception_handlers=exception_handlers(),
        request_class=DecodingRequest,
        openapi_config=None,
    )


def build_http_app(
    *,
    version: str,
    sign_in: bool,
    keycloak: bool,
    cors_origins: Sequence[str],
    credentials_required: bool,
    lifespan: Sequence[Callable[[Litestar], AbstractAsyncContextManager[None]]],
) -> Litestar:
    """The Litestar application: public health routes and the guarded API.

    Without ``credentials_required`` (the embedded binding's local user) the API documents its
    bearer credential as optional, as it is.
    """
    api = Router(
        "/",
        before_request=_authorize_and_screen,
        route_handlers=[
            UserController,
            OrganizationController,
            MemberController,
            InvitationController,
            BillingController,
            ApiKeyController,
            GitConnectionController,
            RepositoryController,
            SettingsController,
            OrgSettingsController,
            SecretController,
            ConversationController,
            UserUsageController,
            OrgUsageController,
            MemberCapController,
            AppInstallationController,
            ResolverRepositoryController,
            ResolverSettingsController,
            *([SessionController] if sign_in else []),
            *([EmailController] if keycloak else []),
            *([EmailConfirmationController] if sign_in and not keycloak else []),
        ],
        security=[{"bearer": []}] if credentials_required else [{}, {"bearer": []}],
    )
    app = Litestar(
        route_handlers=[
            HealthController,
            RuntimeController,
            conversation_socket,
            WebhookController,
            *([SignInController] if sign_in else []),
            *([EmailConfirmationLinkController] if sign_in else []),
            api,
        ],
        exception_handlers=exception_handlers(),
        request_class=DecodingRequest,
        before_request=_limit_and_screen,
        before_send=[add_rate_limit_headers],
        plugins=[ClosedStructSchemaPlugin()],
        lifespan=list(lifespan),
        cors_config=(
            CORSConfig(
                allow_origins=list(cors_origins),
                allow_credentials="*" not in cors_origins,
                expose_headers=[REQUEST_ID_HEADER],
            )
            if cors_origins
            else None
        ),
        openapi_config=OpenAPIConfig(
            title="Maestrist Enterprise Server",
            version=version,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                    "runtimeCredential": SecurityScheme(
                        type="apiKey",
                        name="X-Access-Token",
                        security_scheme_in="header",
                        description="The short-lived credential handed to an agent runtime.",
                    ),
                }
            ),
        ),
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
        debug=False,
    )
    document_problems(app)
    _allow_every_method(app)
    return app


async def _authorize_and_screen(request: Request[Any, Any, Any]) -> None:
    """Before each API handler: the caller authenticated and held to the route's gates and
    scope, then the request screened as on every route (so a caller without credentials learns
    nothing about the body it sent).

    A hook, not a guard: Litestar copies the route handler for every guard it runs, a tenth of
    the CPU of a request that reads nothing from the database.
    """
    await require_principal(request, request.route_handler)
    await screen_request(request)


async def _limit_and_screen(request: Request[Any, Any, Any]) -> None:
    """Before each handler of a route that needs no sign-in: the client's address held to
    its rate limit, then the request screened."""
    await limit_anonymous(request)
    await screen_request(request)


def _allow_every_method(app: Litestar) -> None:
    """Make OPTIONS list every method of its path.

    Litestar 2 builds a path's route anew each time a router adds handlers to it, and its
    generated OPTIONS handler keeps the route it was first built with, answering ``Allow`` with
    the methods of the first handlers only (litestar-org/litestar#4169, fixed in Litestar 3).
    Point each one at the route that serves the path.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"} and not handler.include_in_schema:
                for cell in getattr(handler.fn, "__closure__", None) or ():
                    if isinstance(cell.cell_contents, HTTPRoute):
                        cell.cell_contents = route


def install_request_id(app: Litestar, *, access_log: bool) -> None:
    """Wrap the whole ASGI stack, so call it after every other wrapper (dishka's included)."""
    app.asgi_handler = RequestIdMiddleware(app.asgi_handler, access_log=access_log)
