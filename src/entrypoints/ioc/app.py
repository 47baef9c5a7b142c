import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import structlog
from dishka import STRICT_VALIDATION, AsyncContainer, Provider, make_async_container
from dishka.integrations.litestar import LitestarProvider
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import upgrade_to_head
from application.errors import DependencyUnavailableError
from application.identity.provision_local_user import (
    ProvisionLocalUser,
    ProvisionLocalUserRequest,
)
from entrypoints.http.app import build_http_app, install_request_id
from entrypoints.http.health import LIVENESS_PATH
from entrypoints.http.metrics import METRICS_PATH, MetricsController, install_http_metrics
from entrypoints.http.request_scope import install_request_scope
from entrypoints.ioc.analytics import start_analytics
from entrypoints.ioc.conversations import start_conversation_ingest
from entrypoints.ioc.http import close_sockets
from entrypoints.ioc.identity import start_principal_cache
from entrypoints.ioc.jobs import start_jobs, stop_jobs
from entrypoints.ioc.readiness import DatabaseProbes
from entrypoints.ioc.registry import get_providers
from entrypoints.settings import Binding, Settings

__all__ = ("create_app", "server_version")

_log = structlog.get_logger("maestrist.server")


def server_version() -> str:
    try:
        return version("maestrist-enterprise-server")
    except PackageNotFoundError:
        return "0.0.0"


async def prepare_embedded(container: AsyncContainer, settings: Settings) -> None:
    """Embedded start-up: create the data directory, migrate, provision the local user."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_to_head(await container.get(AsyncEngine))
    async with container() as request_container:
        provision = await request_container.get(ProvisionLocalUser)
        provisioned = await provision.execute(
            ProvisionLocalUserRequest(
                email=settings.embedded.local_user_email,
                display_name=settings.embedded.local_user_name,
            )
        )
    _log.info("local_user_ready", user_id=str(provisioned.user.id_))


async def warn_when_database_not_ready(container: AsyncContainer, timeout_s: float) -> None:
    """Clustered start-up: say when the database cannot serve this code, above all when its
    schema is behind (naming the command to run). Never fails the start: readiness reports it
    too, and a probe that passed here leaves readiness only its ``SELECT 1``."""
    for probe in await container.get(DatabaseProbes):
        try:
            async with asyncio.timeout(timeout_s):
                await probe.check()
        except DependencyUnavailableError as exc:
            _log.warning("database_not_ready", dependency=probe.name, error=exc.message)
        except TimeoutError:
            _log.warning("database_not_ready", dependency=probe.name, error="no answer in time")


def create_app(settings: Settings, *override_providers: Provider) -> Litestar:
    """Build the application for ``settings``; extra providers override the binding's own.

    Nothing connects until the server starts the lifespan.
    """
    container = make_async_container(
        *get_providers(settings),
        LitestarProvider(),
        *override_providers,
        context={Settings: settings},
        validation_settings=STRICT_VALIDATION,
    )

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        try:
            if settings.binding is Binding.EMBEDDED:
                await prepare_embedded(container, settings)
            else:
                await warn_when_database_not_ready(container, settings.dependency_timeout_s)
            await start_analytics(container)
            await start_principal_cache(container)
            await start_conversation_ingest(container)
            if settings.jobs.in_serve:
                await start_jobs(container)
            # Start-up objects live forever: keep them out of every later full GC. Only the
            # young generations are swept first: a full sweep walks every object the imports
            # made to find a few hundred, and took longer than the rest of the lifespan.
            gc.collect(1)
            gc.freeze()
            _log.info("server_started", binding=settings.binding.value)
            yield
        finally:
            if settings.jobs.in_serve:
                await stop_jobs(container)
            await close_sockets(container)
            await container.close()
            _log.info("server_stopped")

    app = build_http_app(
        version=server_version(),
        sign_in=settings.identity.sign_in_enabled,
        keycloak=settings.identity.keycloak_enabled,
        cors_origins=settings.server.cors_origins,
        credentials_required=settings.binding is not Binding.EMBEDDED,
        lifespan=[lifespan],
    )
    if settings.metrics.enabled:
        app.register(MetricsController)
    install_request_scope(app, container, bare_paths=frozenset({LIVENESS_PATH}))
    install_http_metrics(app, container, skip_paths=frozenset({METRICS_PATH}))
    install_request_id(app, access_log=settings.server.access_log)
    return app
