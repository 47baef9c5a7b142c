"""A loopback server that speaks Redis's protocol but never confirms a subscription: it answers
every other command ``+OK`` and swallows ``SUBSCRIBE``, as a Redis that is wedged, or a proxy
that lost the way back, would. What waits for a confirmation must give up on its own."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ("unanswering_redis",)

_SWALLOWED = frozenset({b"SUBSCRIBE", b"PSUBSCRIBE", b"SSUBSCRIBE"})


async def _command(reader: asyncio.StreamReader) -> list[bytes] | None:
    """One command as the client sent it (an array of bulk strings), or None at its end."""
    header = await reader.readline()
    if not header:
        return None
    if not header.startswith(b"*"):
        raise ValueError(f"not a command: {header!r}")
    parts = []
    for _ in range(int(header[1:])):
        size = int((await reader.readline())[1:])
        parts.append((await reader.readexactly(size + 2))[:-2])
    return parts


@asynccontextmanager
async def unanswering_redis() -> AsyncIterator[str]:
    """Serves until the block ends; yields the ``redis://`` URL to connect to."""
    writers: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            while (command := await _command(reader)) is not None:
                if command and command[0].upper() not in _SWALLOWED:
                    writer.write(b"+OK\r\n")
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in tuple(writers):
            writer.close()
        await server.wait_closed()
