"""The app served on the test's own event loop, so requests sent together really overlap.

The Litestar test client hands the app one request at a time; a promise about concurrency
(single flight, admission limits, one acceptance) is only tested when requests are in flight
at once, and only proven tested when the same test fails without the concurrency control.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import httpx
from dishka import Provider, Scope, provide

from application.ports.locks import Locks
from entrypoints.ioc import create_app
from entrypoints.settings import Settings

__all__ = ("NoLocks", "NoLocksProvider", "serve_concurrently")


@asynccontextmanager
async def serve_concurrently(
    settings: Settings, *providers: Provider, base_url: str = "http://testserver.local"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach the app concurrently, through its ASGI interface."""
    app = create_app(settings, *providers)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # ASGI, typed narrower
            base_url=base_url,
        ) as client,
    ):
        yield client


class NoLocks(Locks):
    """Every hold granted at once: the deployment without mutual exclusion."""

    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]:
        return self._granted()

    @asynccontextmanager
    async def _granted(self) -> AsyncIterator[None]:
        yield


class NoLocksProvider(Provider):
    """Overrides the ``Locks`` port with ``NoLocks``, for negative controls."""

    locks = provide(NoLocks, provides=Locks, scope=Scope.APP, override=True)
