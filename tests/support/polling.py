"""Waiting in tests for what must happen, without guessing how long it takes."""

import asyncio
from collections.abc import Callable

__all__ = ("GENEROUS_S", "until")

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
