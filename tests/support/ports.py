"""Loopback ports for tests that need an address where nothing answers."""

import socket

__all__ = ("closed_port",)

_held: list[socket.socket] = []


def closed_port() -> int:
    """A loopback port bound by this process for the rest of the run and never listened on:
    connecting to it is refused, and no other test, process or worker can start listening on it
    meanwhile (a port merely let go could be handed to a server started beside this test)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    _held.append(probe)
    return int(probe.getsockname()[1])
