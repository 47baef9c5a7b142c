"""The one auth guard: every non-public route and websocket resolves its principal here."""

from typing import Any
from uuid import UUID

from dishka import AsyncContainer
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from application.errors import MissingScopeError, NotAuthenticatedError
from application.identity.access_gates import AccessPolicy, check_gates
from application.identity.authenticator import Authenticator
from domain.identity.principals import Credentials, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from domain.shared.errors import InvalidValueError
from entrypoints.http.rate_limits import HttpRateLimits

__all__ = (
    "NO_TOKEN_REFRESH",
    "OPEN_BEFORE_GATES",
    "ORG_HEADER",
    "PEOPLE_ONLY",
    "READS_ONLY",
    "SCOPE_OPT",
    "current_principal",
    "only_reads",
    "parse_org_header",
    "reads_only",
    "require_principal",
    "requires",
)

_PRINCIPAL_KEY = "principal"
SCOPE_OPT = "required_scope"
UNVERIFIED_OK = "allow_unverified_email"
WITHOUT_TERMS_OK = "allow_without_terms"
PEOPLE_ONLY_OPT = "people_only"
STALE_TOKENS_OK = "allow_stale_provider_tokens"
READS_ONLY_OPT = "reads_only"

OPEN_BEFORE_GATES = {UNVERIFIED_OK: True, WITHOUT_TERMS_OK: True}
"""Route ``opt`` of the few routes a person needs to get through the gates: who am I, accept
the terms, resend the verification email, sign out."""

PEOPLE_ONLY = {PEOPLE_ONLY_OPT: True}
"""Route ``opt`` of the routes only a person may call, never an API key (403
``credential-not-allowed``): managing sessions and API keys."""


NO_TOKEN_REFRESH = {STALE_TOKENS_OK: True}
"""Route ``opt`` of a route that never uses the session's provider tokens and must work while
the provider is down (signing out): a session due for a refresh is not refreshed first."""


READS_ONLY = {READS_ONLY_OPT: True}
"""Route ``opt`` of a route whose use case only reads, so its unit of work needs no
transaction; never on a route that writes or takes a lock."""


_READS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing, and opening a websocket (which has no method): they may rest on
what the credential proved seconds ago; anything that changes something reads it again, so a
revocation whose announcement was lost never lets a credential act."""


def only_reads(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the connection may rest on what was proved seconds ago (see ``_READS``)."""
    return connection.scope.get("method", "GET") in _READS


def reads_only(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the route serving the connection declares ``READS_ONLY``."""
    opt = getattr(connection.scope.get("route_handler"), "opt", None) or {}
    return bool(opt.get(READS_ONLY_OPT))


def requires(scope: Scope) -> dict[str, Scope]:
    """Route ``opt`` naming the scope a credential needs: ``@post(..., opt=requires(s))``."""
    return {SCOPE_OPT: scope}


async def require_principal(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Authenticate, hold the person to the email and terms gates, then the credential to the
    scope the route declares; all before the handler runs. The caller's rate limits are
    counted once it is known (a credential that proves nothing counts against its address),
    and the route's cost once it may call the route."""
    container: AsyncContainer = connection.state.dishka_container
    authenticator = await container.get(Authenticator)
    credentials = Credentials(
        authorization=connection.headers.get("authorization"),
        cookies=connection.cookies,
        fresh_tokens=not handler.opt.get(STALE_TOKENS_OK),
        reuse_recent=only_reads(connection),
    )
    principal = await authenticator.authenticate(credentials)
    limits = await container.get(HttpRateLimits)
    if principal is None:
        await limits.unauthenticated(connection)
        raise NotAuthenticatedError
    connection.scope["state"][_PRINCIPAL_KEY] = principal
    await limits.caller(connection, principal)
    check_gates(
        principal,
        await container.get(AccessPolicy),
        allow_unverified_email=bool(handler.opt.get(UNVERIFIED_OK)),
        allow_without_terms=bool(handler.opt.get(WITHOUT_TERMS_OK)),
        people_only=bool(handler.opt.get(PEOPLE_ONLY_OPT)),
    )
    required = handler.opt.get(SCOPE_OPT)
    if required is not None and required not in principal.scopes:
        raise MissingScopeError(f"This endpoint needs a credential with the scope {required}.")
    await limits.route_cost(connection, principal, handler)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal ``require_principal`` resolved for this connection."""
    principal = connection.scope.get("state", {}).get(_PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise NotAuthenticatedError
    return principal


ORG_HEADER = "x-org-id"


def parse_org_header(connection: ASGIConnection[Any, Any, Any, Any]) -> OrgId | None:
    """The organization the caller names with ``X-Org-Id``, if any."""
    raw = connection.headers.get(ORG_HEADER)
    if raw is None:
        return None
    try:
        return OrgId(UUID(raw.strip()))
    except ValueError:
        raise InvalidValueError(
            "X-Org-Id must be the id of an organization you belong to.", field="X-Org-Id"
        ) from None
