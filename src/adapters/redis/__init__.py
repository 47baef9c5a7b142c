from adapters.redis.client import create_redis_client
from adapters.redis.probe import RedisProbe

__all__ = ("RedisProbe", "create_redis_client")
