"""Redis: coordination, cache and pub/sub of the clustered binding."""

import socket
from collections.abc import AsyncIterator
from datetime import timedelta

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from adapters.redis import (
    RedisAccessRevocations,
    RedisEventFanOut,
    RedisIngestLeases,
    RedisLocks,
    RedisLoginAttemptStore,
    RedisProbe,
    RedisRateLimiter,
    create_redis_client,
)
from application.ports.access_revocations import AccessRevocations
from application.ports.event_fan_out import EventFanOut
from application.ports.ingest_leases import IngestLeases
from application.ports.locks import Locks
from application.ports.login_attempts import LoginAttemptStore
from application.ports.rate_limiter import RateLimiter
from entrypoints.ioc.readiness import CoordinationProbes
from entrypoints.settings import Settings

__all__ = ("RedisProvider",)


class RedisProvider(Provider):
    """Redis: locks, ingest leases, event fan-out, revocations, sign-in attempts and rate
    limits shared by every instance of the clustered binding."""

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[Redis]:
        assert settings.redis.url is not None
        client = create_redis_client(
            settings.redis.url,
            timeout_s=settings.dependency_timeout_s,
            max_connections=settings.redis.max_connections,
        )
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    def probes(self, client: Redis) -> CoordinationProbes:
        return CoordinationProbes((RedisProbe(client),))

    @provide(scope=Scope.APP)
    def locks(self, client: Redis) -> Locks:
        return RedisLocks(client)

    @provide(scope=Scope.APP)
    async def leases(self, client: Redis, settings: Settings) -> AsyncIterator[IngestLeases]:
        node = settings.redis.node_id or f"{socket.gethostname()}:{settings.server.port}"
        leases = RedisIngestLeases(
            client,
            lease_ttl=timedelta(seconds=settings.redis.conversation_lease_ttl_s),
            node=f"{node}/{settings.server.worker_number}",
        )
        yield leases
        await leases.aclose()

    @provide(scope=Scope.APP)
    async def fan_out(self, client: Redis) -> AsyncIterator[EventFanOut]:
        fan_out = RedisEventFanOut(client)
        yield fan_out
        await fan_out.aclose()

    @provide(scope=Scope.APP)
    async def revocations(self, client: Redis) -> AsyncIterator[AccessRevocations]:
        revocations = RedisAccessRevocations(client)
        yield revocations
        await revocations.aclose()

    @provide(scope=Scope.APP)
    def attempts(self, client: Redis) -> LoginAttemptStore:
        return RedisLoginAttemptStore(client)

    @provide(scope=Scope.APP)
    def rate_limiter(self, client: Redis, settings: Settings) -> RateLimiter:
        return RedisRateLimiter(client, timeout_s=settings.rate_limits.timeout_s)
