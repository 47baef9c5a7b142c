"""Adapters of as many "servers" as a test wants, on one Redis and under one key prefix of the
test's own; everything started is closed and the prefix's keys deleted at the end."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

from redis.asyncio import Redis

from adapters.redis import create_redis_client
from tests.conftest import REDIS_URL

__all__ = ("RedisServers", "redis_servers")


class _Closable(Protocol):
    async def aclose(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class RedisServers:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.clients: list[Redis] = []
        self._started: list[_Closable] = []

    def client(self, name: str | None = None) -> Redis:
        """A new client, as each server has its own; ``name`` shows in ``CLIENT LIST``."""
        client = (
            create_redis_client(REDIS_URL, timeout_s=2, max_connections=20)
            if name is None
            else Redis.from_url(REDIS_URL, socket_timeout=2, client_name=name)
        )
        self.clients.append(client)
        return client

    def started(self, adapter: C) -> C:
        """``adapter``, to be closed before its client."""
        self._started.append(adapter)
        return adapter

    async def aclose(self) -> None:
        for adapter in self._started:
            await adapter.aclose()
        if self.clients:
            first = self.clients[0]
            leftovers = [key async for key in first.scan_iter(match=f"{self.prefix}*")]
            if leftovers:
                await first.delete(*leftovers)
        for client in self.clients:
            await client.aclose()


@asynccontextmanager
async def redis_servers() -> AsyncIterator[RedisServers]:
    servers = RedisServers(f"maestrist-test:{secrets.token_hex(8)}:conversation:")
    try:
        yield servers
    finally:
        await servers.aclose()
