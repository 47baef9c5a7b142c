"""The HTTP edge: who the caller is and in which organization, where a client's address comes
from, and the websockets the server holds open."""

from dishka import AsyncContainer, Provider, Scope, provide
from dishka.entities.marker import HasContext
from litestar import Request

from application.organizations import ActiveOrgResolver
from application.ports.metrics import Metrics
from application.ports.org_repository import MemberOrganization
from domain.identity.principals import Principal
from entrypoints.http.auth import current_principal, only_reads, parse_org_header, reads_only
from entrypoints.http.client_address import TrustedProxies
from entrypoints.http.conversations import OpenSockets, SocketPolicy
from entrypoints.http.rate_limits import HttpRateLimits
from entrypoints.ioc.sqlalchemy import RequestStatements
from entrypoints.settings import Settings

__all__ = (
    "HttpProvider",
    "ProductionServerProvider",
    "RequestContextProvider",
    "close_sockets",
)


class HttpProvider(Provider):
    """What the server settings say about proxies in front and browsers that open sockets."""

    @provide(scope=Scope.APP)
    def trusted_proxies(self, settings: Settings) -> TrustedProxies:
        return TrustedProxies.parse(settings.server.trusted_proxies)

    @provide(scope=Scope.APP)
    def socket_policy(self, settings: Settings) -> SocketPolicy:
        server = settings.server
        return SocketPolicy(
            allowed_origins=frozenset({server.effective_public_url, *server.cors_origins})
        )

    @provide(scope=Scope.APP)
    def open_sockets(self, settings: Settings, metrics: Metrics) -> OpenSockets:
        return OpenSockets(metrics=metrics, close_timeout_s=settings.server.shutdown_timeout_s / 2)


class RequestContextProvider(Provider):
    """Who is calling and in which organization, for the use cases of one request."""

    scope = Scope.REQUEST

    @provide
    def principal(
        self,
        request: Request,  # type: ignore[type-arg]  # dishka keys it by the bare class
    ) -> Principal:
        return current_principal(request)

    @provide(when=HasContext(Request))
    def statements(
        self,
        request: Request,  # type: ignore[type-arg]  # dishka keys it by the bare class
    ) -> RequestStatements:
        return RequestStatements(reads_only=reads_only(request))

    @provide
    async def active_org(
        self,
        request: Request,  # type: ignore[type-arg]  # dishka keys it by the bare class
        actor: Principal,
        active_orgs: ActiveOrgResolver,
        limits: HttpRateLimits,
    ) -> MemberOrganization:
        org = await active_orgs.resolve(
            actor, parse_org_header(request), reuse_recent=only_reads(request)
        )
        await limits.org(request, org.organization.id_)
        return org


class ProductionServerProvider(Provider):
    """What differs under ``maestrist serve``: it drops open connections as soon as it is
    told to stop, so the stop signals wait for the sockets to close with 1001 first."""

    @provide(scope=Scope.APP, override=True)
    def open_sockets(self, settings: Settings, metrics: Metrics) -> OpenSockets:
        return OpenSockets(
            metrics=metrics,
            hold_stop_signals=True,
            close_timeout_s=settings.server.shutdown_timeout_s / 2,
        )


async def close_sockets(container: AsyncContainer) -> None:
    """Close every open socket with 1001 (going away), before the server's connections go."""
    await (await container.get(OpenSockets)).close_all()
