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

    Call it from the main thread, with the loop that handles the signals running. False (and
    nothing changed) when no loop listens for signals there.
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
    stopping: list[asyncio.Task[None]] = []

    def pass_on(data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(previous, data)

    async def stop(data: bytes) -> None:
        try:
            await first()
        finally:
            pass_on(data)

    def readable() -> None:
        try:
            data = os.read(read_fd, 512)
        except BlockingIOError:
            return
        if stopping or not _STOP.intersection(data):
            pass_on(data)  # other signals, and a second stop signal, go straight through
            return
        stopping.append(loop.create_task(stop(data), name="stop-signal"))

    loop.add_reader(read_fd, readable)
    return True
