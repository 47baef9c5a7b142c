from adapters.redis.access_revocations import RedisAccessRevocations
from adapters.redis.client import create_redis_client
from adapters.redis.event_fan_out import RedisEventFanOut
from adapters.redis.ingest_leases import RedisIngestLeases
from adapters.redis.locks import RedisLocks
from adapters.redis.login_attempts import RedisLoginAttemptStore
from adapters.redis.probe import RedisProbe
from adapters.redis.rate_limiter import RedisRateLimiter

__all__ = (
    "RedisAccessRevocations",
    "RedisEventFanOut",
    "RedisIngestLeases",
    "RedisLocks",
    "RedisLoginAttemptStore",
    "RedisProbe",
    "RedisRateLimiter",
    "create_redis_client",
)
