"""Every HTTP request counted and timed by its route's template, around the whole stack."""

import time

from dishka import AsyncContainer
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from application.ports.metrics import UNMATCHED_ROUTE, Metrics

__all__ = ("HttpMetricsMiddleware", "install_http_metrics")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Any other method counts as ``OTHER``: a client chooses it, so it is no bounded label."""


class HttpMetricsMiddleware:
    """Outside Litestar's routing, so requests no route answers (404, 405) count too, all
    under ``UNMATCHED_ROUTE``: the route is the template routing put in the ASGI scope, never
    the raw path. Websockets are counted by the socket itself; ``skip_paths`` (the scrape)
    not at all."""

    def __init__(
        self, app: ASGIApp, container: AsyncContainer, *, skip_paths: frozenset[str]
    ) -> None:
        self._app = app
        self._container = container
        self._skip = skip_paths
        self._metrics: Metrics | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] in self._skip:
            await self._app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        metrics = self._metrics or await self._recorder()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self._app(scope, receive, send_noting_status)
        finally:
            route = scope.get("path_template") or UNMATCHED_ROUTE
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            metrics.http_request(method, route, status, time.perf_counter() - started)

    async def _recorder(self) -> Metrics:
        metrics: Metrics = await self._container.get(Metrics)
        self._metrics = metrics
        return metrics


def install_http_metrics(
    app: Litestar, container: AsyncContainer, *, skip_paths: frozenset[str]
) -> None:
    """Wrap the ASGI stack; call it after the request scope and before the request id."""
    app.asgi_handler = HttpMetricsMiddleware(app.asgi_handler, container, skip_paths=skip_paths)
