"""Something to do when the server is told to stop, before the server itself reacts.

The production server drops every open websocket the moment a worker gets SIGTERM or SIGINT,
without a close frame. Its workers learn of signals the standard way: the signal module writes
each signal's number to the event loop's wakeup file descriptor. Holding back the stop signals
means putting a pipe of our own in its place, doing what has to be done first, then passing the
signal numbers on to the loop's descriptor, so the server stops as it would have.
"""

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable

__all__ = ("hold_stop_signals",)

_STOP = frozenset({signal.SIGTERM, signal.SIGINT})


def hold_stop_signals(first: Callable[[], Awaitable[None]]) -> bool:
    """From now on, run ``first`` when a stop signal arrives, then let the loop handle it.

    Any signal that arrives meanwhile waits too (``first`` should be bounded in time). Call it
    from the main thread, with the loop that handles the signals running. False (and nothing
    changed) when no loop listens for signals there.
    """
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    try:
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        previous = -1
    if previous == -1:
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)
        os.close(read_fd)
        os.close(write_fd)
        return False
    held: list[bytes] = []
    """Signals that arrived while ``first`` runs (a server's main process may pass the same
    SIGTERM on to its workers, so a second one can come at once); they follow it."""
    stopping: list[asyncio.Task[None]] = []

    def pass_on(data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(previous, data)

    async def stop() -> None:
        try:
            await first()
        finally:
            pass_on(b"".join(held))

    def readable() -> None:
        try:
            data = os.read(read_fd, 512)
        except BlockingIOError:
            return
        if stopping and not stopping[0].done():
            held.append(data)
        elif not stopping and _STOP.intersection(data):
            held.append(data)
            stopping.append(loop.create_task(stop(), name="stop-signal"))
        else:
            pass_on(data)

    loop.add_reader(read_fd, readable)
    return True
