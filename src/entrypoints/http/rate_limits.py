"""Where rate limits apply over HTTP and websockets, and the headers that tell a client.

- Routes that need no sign-in (sign-in, webhooks, the rest): per client address, before the
  handler (``limit_anonymous``); a request that fails to authenticate counts there too.
- Routes behind the auth guard: per person and per API key once the guard knows the
  principal, and the route's cost (``costs(...)`` in its ``opt``) from the person's costly
  budget; per organization once the organization it acts in is resolved.
- Websockets: connects per client address; each message sent costs like one over HTTP.

Each decision is kept on the connection, and every response carries ``RateLimit-Policy``
and ``RateLimit`` for the limits its request was held to (draft-ietf-httpapi-ratelimit-
headers); a 429 also ``Retry-After`` (``errors.py``).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.handlers import BaseRouteHandler
from litestar.types import Message, Scope

from application.ports.rate_limiter import RateDecision, RatePolicy
from application.rate_limits import CostlyAction, Costs, Limit, Throttle
from domain.identity.principals import AuthMethod, Principal
from domain.organizations.entities import OrgId
from entrypoints.http.client_address import TrustedProxies

__all__ = (
    "COST_OPT",
    "SIGN_IN_PATHS",
    "UNLIMITED_PREFIXES",
    "WEBHOOKS_PREFIX",
    "HttpRateLimits",
    "add_rate_limit_headers",
    "costs",
    "decisions_of",
    "limit_anonymous",
    "rate_limit_headers",
    "retry_after",
)

COST_OPT = "rate_limit_cost"
WEBHOOKS_PREFIX = "/api/webhooks/"
SIGN_IN_PATHS = frozenset({"/api/auth/login", "/api/auth/callback"})
UNLIMITED_PREFIXES = ("/health/", "/api/runtime/")
"""Load balancers' probes, and agent runtimes (which prove themselves with a signed
credential and share their node's loopback address)."""

_DECISIONS = "rate_limits"


def costs(action: CostlyAction) -> dict[str, CostlyAction]:
    """Route ``opt`` of a costly route: its cost is taken from the person's costly budget
    before the handler runs (``@post(..., opt={**WRITE, **costs(CostlyAction.CHECKOUT)})``)."""
    return {COST_OPT: action}


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRateLimits:
    """The limits of the HTTP edge (``None``: that one is off) and the throttle holding
    callers to them."""

    throttle: Throttle
    proxies: TrustedProxies
    per_ip: Limit | None = None
    sign_in_per_ip: Limit | None = None
    webhooks_per_ip: Limit | None = None
    per_user: Limit | None = None
    per_api_key: Limit | None = None
    per_org: Limit | None = None
    costly: Limit | None = None
    costs: Costs = field(default_factory=Costs)
    socket_connects: Limit | None = None

    async def by_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """An anonymous request: the limit of its kind of route, by client address."""
        path = connection.scope["path"]
        if path.startswith(UNLIMITED_PREFIXES):
            return
        if path.startswith(WEBHOOKS_PREFIX):
            limit = self.webhooks_per_ip
        elif path.rstrip("/") in SIGN_IN_PATHS:
            limit = self.sign_in_per_ip
        else:
            limit = self.per_ip
        await self._by_address(connection, limit)

    async def unauthenticated(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """A request to a guarded route whose credential proved nothing: counted like an
        anonymous one, so credentials cannot be guessed faster than that."""
        await self._by_address(connection, self.per_ip)

    async def socket_connect(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        await self._by_address(connection, self.socket_connects)

    async def caller(
        self, connection: ASGIConnection[Any, Any, Any, Any], principal: Principal
    ) -> None:
        """A guarded request whose principal is known: its person and its API key."""
        await self._hit(connection, self.per_user, f"user:{principal.user.id_}")
        if principal.method is AuthMethod.API_KEY and principal.credential_id is not None:
            await self._hit(connection, self.per_api_key, f"key:{principal.credential_id}")

    async def route_cost(
        self,
        connection: ASGIConnection[Any, Any, Any, Any],
        principal: Principal,
        handler: BaseRouteHandler,
    ) -> None:
        """The route's cost, if it declares one, once the caller may call it."""
        action = handler.opt.get(COST_OPT)
        if isinstance(action, CostlyAction):
            await self.charge(principal, action, connection)

    async def org(self, connection: ASGIConnection[Any, Any, Any, Any], org_id: OrgId) -> None:
        """A request acting in an organization its caller belongs to."""
        await self._hit(connection, self.per_org, f"org:{org_id}")

    async def charge(
        self,
        principal: Principal,
        action: CostlyAction,
        connection: ASGIConnection[Any, Any, Any, Any] | None = None,
    ) -> None:
        """Take ``action``'s cost from the person's costly budget (a websocket message has
        no response to carry headers, so no ``connection``)."""
        if self.costly is None:
            return
        key = f"user:{principal.user.id_}"
        decision = await self.throttle.hit(self.costly, key, self.costs.of(action))
        if connection is not None:
            _record(connection, self.costly.policy, decision)

    async def _by_address(
        self, connection: ASGIConnection[Any, Any, Any, Any], limit: Limit | None
    ) -> None:
        if limit is None:
            return
        client = self.proxies.client_of(connection)
        if client is not None:
            await self._hit(connection, limit, f"ip:{client}")

    async def _hit(
        self, connection: ASGIConnection[Any, Any, Any, Any], limit: Limit | None, key: str
    ) -> None:
        if limit is not None:
            _record(connection, limit.policy, await self.throttle.hit(limit, key))


def _record(
    connection: ASGIConnection[Any, Any, Any, Any],
    policy: RatePolicy,
    decision: RateDecision | None,
) -> None:
    if decision is not None:
        state = connection.scope.setdefault("state", {})
        state.setdefault(_DECISIONS, {})[policy.name] = (policy, decision)


def decisions_of(
    connection: ASGIConnection[Any, Any, Any, Any],
) -> dict[str, tuple[RatePolicy, RateDecision]]:
    """The decisions this request's limits took so far, by policy name."""
    found: dict[str, tuple[RatePolicy, RateDecision]] = connection.scope.get("state", {}).get(
        _DECISIONS, {}
    )
    return found


async def limit_anonymous(request: Request[Any, Any, Any]) -> None:
    """Before a handler of a route that needs no sign-in."""
    if request.scope["path"].startswith(UNLIMITED_PREFIXES):
        return  # checked first: the liveness probe has no container to ask
    limits: HttpRateLimits = await request.state.dishka_container.get(HttpRateLimits)
    await limits.by_address(request)


def _item(name: str) -> str:
    return f'"{name}"'


def _seconds(decision: RateDecision) -> int:
    return max(0, math.ceil(decision.reset_after.total_seconds()))


def rate_limit_headers(decisions: Mapping[str, tuple[RatePolicy, RateDecision]]) -> dict[str, str]:
    """``RateLimit-Policy`` (each rate of each policy, named ``<policy>-<window>s``) and
    ``RateLimit`` (for each policy, the rate that decided: what is left and for how long)."""
    if not decisions:
        return {}
    policies = ", ".join(
        f"{_item(f'{policy.name}-{rate.seconds}s')};q={rate.amount};w={rate.seconds}"
        for policy, _ in decisions.values()
        for rate in policy.rates
    )
    current = ", ".join(
        f"{_item(f'{policy.name}-{decision.rate.seconds}s')};"
        f"r={decision.remaining};t={_seconds(decision)}"
        for policy, decision in decisions.values()
    )
    return {"RateLimit-Policy": policies, "RateLimit": current}


def retry_after(decision: RateDecision) -> str:
    return str(max(1, _seconds(decision)))


async def add_rate_limit_headers(message: Message, scope: Scope) -> None:
    """``before_send``: the headers of the limits this request was held to, on whatever
    answer it gets (unless the answer set them itself, as a 429 does)."""
    if message["type"] != "http.response.start":
        return
    decisions = scope.get("state", {}).get(_DECISIONS)
    if not decisions:
        return
    headers = MutableScopeHeaders.from_message(message)
    if "ratelimit" in headers:
        return
    for name, value in rate_limit_headers(decisions).items():
        headers[name] = value
