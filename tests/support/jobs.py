"""Job handlers for tests, opened as the container opens them for each attempt."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from application.jobs import JobHandler

__all__ = ("opener",)


def opener(handler: JobHandler) -> Callable[[], AbstractAsyncContextManager[JobHandler]]:
    """Opens ``handler`` itself for every attempt."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[JobHandler]:
        yield handler

    return opened
