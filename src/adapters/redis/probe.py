from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports.dependency_probe import DependencyProbe

__all__ = ("RedisProbe",)


class RedisProbe(DependencyProbe):
    """Readiness of Redis: ``PING`` answers ``PONG``."""

    def __init__(self, client: Redis, name: str = "redis") -> None:
        self.name = name
        self._client = client

    async def check(self) -> None:
        try:
            answered = await self._client.ping()
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError(f"Redis does not answer: {exc}") from exc
        if answered is not True:
            raise DependencyUnavailableError("Redis answered PING with something else.")
