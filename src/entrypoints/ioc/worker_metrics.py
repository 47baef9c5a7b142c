"""The scrape target of a ``maestrist worker`` process, which serves no API: granian's
embedded server, in the worker's own event loop, answering ``GET /metrics`` alone."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from dishka import AsyncContainer
from granian.constants import Interfaces
from granian.server.embed import Server

from entrypoints.http.app import build_metrics_app
from entrypoints.http.request_scope import install_request_scope
from entrypoints.settings import Settings, SettingsError

__all__ = ("serving_worker_metrics",)

_log = structlog.get_logger("maestrist.worker")


@asynccontextmanager
async def serving_worker_metrics(
    settings: Settings, container: AsyncContainer
) -> AsyncIterator[None]:
    """While inside, ``/metrics`` answers at ``MAESTRIST_HOST`` on
    ``MAESTRIST_WORKER_METRICS_PORT`` (nothing is served when the port is unset). A port that
    cannot be bound fails the start as a configuration error naming the setting."""
    port = settings.metrics.worker_port
    if port is None:
        yield
        return
    app = build_metrics_app()
    install_request_scope(app, container)
    server = Server(
        app,
        address=settings.server.host,
        port=port,
        interface=Interfaces.ASGI,
        log_enabled=False,
        websockets=False,
    )
    serving = asyncio.create_task(server.serve())
    # The server binds its socket in the first step of ``serve``: once that step has run,
    # the task has either failed to bind or is listening.
    await asyncio.sleep(0)
    if serving.done():
        raise SettingsError(
            {
                "MAESTRIST_WORKER_METRICS_PORT": (
                    f"cannot listen at {settings.server.host}:{port}: {serving.exception()}"
                )
            }
        )
    _log.info("worker_metrics_listening", host=settings.server.host, port=port)
    try:
        yield
    finally:
        server.stop()  # type: ignore[no-untyped-call]
        await serving
