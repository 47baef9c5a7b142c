"""Waiting in tests for what must happen, without guessing how long it takes."""

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ("GENEROUS_S", "until", "until_awaited", "until_sync")

GENEROUS_S = 30.0
"""How long a test waits for something that must happen: long enough for a loaded machine,
so reaching it means it was not going to happen."""


async def until(condition: Callable[[], bool], what: str, *, timeout_s: float = GENEROUS_S) -> None:
    """Polls ``condition`` until it holds; fails saying ``what`` never came to be."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"{what} never came to be") from None


async def until_awaited(
    condition: Callable[[], Awaitable[object]], what: str, *, timeout_s: float = GENEROUS_S
) -> None:
    """``until`` for a condition that has to be awaited (a read of a database, of Redis): polls
    it every 0.05 s."""
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{what} never came to be") from None


def until_sync(
    condition: Callable[[], object], what: str, *, timeout_s: float = GENEROUS_S * 2
) -> None:
    """``until`` for tests outside an event loop (driving real processes): polls ``condition``
    every 0.1 s."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came to be")
        time.sleep(0.1)
