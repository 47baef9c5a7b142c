"""What ``/health/ready`` probes: the database, Redis where the binding has it, the runtime."""

from collections.abc import Sequence

from dishka import Has, Provider, Scope, provide

from adapters.redis import RedisProbe
from adapters.sqlalchemy import SqlaDatabaseProbe
from application.ports.dependency_probe import DependencyProbe
from entrypoints.ioc.runtime import RuntimeProbes

__all__ = ("ReadinessProvider",)


class ReadinessProvider(Provider):
    """The probes of the families the binding chose, in the order readiness reports them."""

    scope = Scope.APP

    @provide
    def probes(
        self, database: SqlaDatabaseProbe, runtime: RuntimeProbes
    ) -> Sequence[DependencyProbe]:
        return (database, *runtime)

    @provide(when=Has(RedisProbe))
    def clustered_probes(
        self, database: SqlaDatabaseProbe, redis: RedisProbe, runtime: RuntimeProbes
    ) -> Sequence[DependencyProbe]:
        return (database, redis, *runtime)
