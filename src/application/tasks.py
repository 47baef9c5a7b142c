"""Ending background tasks for certain. Standard library only: the adapters that run tasks of
their own use it too."""

import asyncio
from typing import Any

__all__ = ("cancel_and_wait",)


async def cancel_and_wait(
    *tasks: "asyncio.Task[Any]", recancel_every_s: float = 0.1, timeout_s: float | None = None
) -> "set[asyncio.Task[Any]]":
    """Cancel ``tasks`` and wait until each has ended; answers those still running after
    ``timeout_s`` (with None, it waits as long as they take: none).

    A cancellation can be lost: Python 3.11's ``asyncio.wait_for``, which the Redis client
    awaits on every read and write, returns a result that arrives with the cancellation and
    drops the cancellation. So a task still running after ``recancel_every_s`` is cancelled
    again, and again, until it ends; a task that catches its cancellation to clean up gets
    that long for each await of its cleanup."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout_s is None else loop.time() + timeout_s
    pending = {task for task in tasks if not task.done()}
    while pending:
        wait_s = recancel_every_s
        if deadline is not None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            wait_s = min(wait_s, remaining)
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=wait_s)
    return pending
