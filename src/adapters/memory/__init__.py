from adapters.memory.access_revocations import InProcessAccessRevocations
from adapters.memory.bounded_subscriber import BoundedSubscriber
from adapters.memory.event_fan_out import InProcessEventFanOut
from adapters.memory.ingest_leases import InProcessIngestLeases
from adapters.memory.locks import InProcessLocks
from adapters.memory.login_attempts import InProcessLoginAttemptStore
from adapters.memory.rate_limiter import InProcessRateLimiter

__all__ = (
    "BoundedSubscriber",
    "InProcessAccessRevocations",
    "InProcessEventFanOut",
    "InProcessIngestLeases",
    "InProcessLocks",
    "InProcessLoginAttemptStore",
    "InProcessRateLimiter",
)
