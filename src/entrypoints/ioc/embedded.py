"""The embedded binding: in-process coordination and the single local user."""

from dishka import Provider, Scope, provide

from adapters.memory import (
    InProcessAccessRevocations,
    InProcessEventFanOut,
    InProcessIngestLeases,
    InProcessLocks,
    InProcessRateLimiter,
)
from application.identity.authenticator import Authenticator
from application.identity.local_user_authenticator import (
    LocalAccessPolicy,
    LocalUserAuthenticator,
    LocalUserCache,
)
from application.ports.access_revocations import AccessRevocations
from application.ports.event_fan_out import EventFanOut
from application.ports.ingest_leases import IngestLeases
from application.ports.locks import Locks
from application.ports.rate_limiter import RateLimiter
from entrypoints.settings import Settings

__all__ = ("EmbeddedProvider",)


class EmbeddedProvider(Provider):
    """Embedded binding: in-process coordination and the single local user."""

    @provide(scope=Scope.APP)
    def local_access(self, settings: Settings) -> LocalAccessPolicy:
        return LocalAccessPolicy(require_api_key=settings.embedded.require_api_key)

    @provide(scope=Scope.APP)
    def local_user_cache(self) -> LocalUserCache:
        return LocalUserCache()

    authenticator = provide(LocalUserAuthenticator, provides=Authenticator, scope=Scope.REQUEST)
    locks = provide(InProcessLocks, provides=Locks, scope=Scope.APP)
    leases = provide(InProcessIngestLeases, provides=IngestLeases, scope=Scope.APP)
    fan_out = provide(InProcessEventFanOut, provides=EventFanOut, scope=Scope.APP)
    revocations = provide(InProcessAccessRevocations, provides=AccessRevocations, scope=Scope.APP)
    rate_limiter = provide(InProcessRateLimiter, provides=RateLimiter, scope=Scope.APP)
