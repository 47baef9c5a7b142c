import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from application.errors import DependencyUnavailableError
from application.ports.dependency_probe import DependencyProbe

__all__ = ("RedisProbe",)

_log = logging.getLogger(__name__)


class RedisProbe(DependencyProbe):
    """Readiness of Redis: ``PING`` answers ``PONG``.

    The public reason names only the kind of failure; where Redis lives goes to the log alone.
    """

    def __init__(self, client: Redis, name: str = "redis") -> None:
        self.name = name
        self._client = client

    async def check(self) -> None:
        try:
            answered = await self._client.ping()
        except (RedisTimeoutError, TimeoutError) as exc:
            _log.warning("redis probe timed out: %s", exc)
            raise DependencyUnavailableError("Redis did not answer in time.") from exc
        except (RedisError, OSError) as exc:
            _log.warning("redis probe failed: %s", exc)
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        if answered is not True:
            raise DependencyUnavailableError("Redis answered PING with something else.")
