"""What ``/health/ready`` probes: the database, Redis where the binding has it, the runtime."""

from collections.abc import Sequence
from typing import NewType

from dishka import Has, Provider, Scope, provide

from application.ports.dependency_probe import DependencyProbe
from entrypoints.ioc.runtime import RuntimeProbes

__all__ = ("CoordinationProbes", "DatabaseProbes", "ReadinessProvider")

DatabaseProbes = NewType("DatabaseProbes", Sequence[DependencyProbe])
"""What readiness checks of the database; every binding has one."""

CoordinationProbes = NewType("CoordinationProbes", Sequence[DependencyProbe])
"""What readiness checks of the server that coordinates instances, where there is one."""


class ReadinessProvider(Provider):
    """The probes of the families the binding chose, in the order readiness reports them."""

    scope = Scope.APP

    @provide
    def probes(self, database: DatabaseProbes, runtime: RuntimeProbes) -> Sequence[DependencyProbe]:
        return (*database, *runtime)

    @provide(when=Has(CoordinationProbes))
    def clustered_probes(
        self, database: DatabaseProbes, coordination: CoordinationProbes, runtime: RuntimeProbes
    ) -> Sequence[DependencyProbe]:
        return (*database, *coordination, *runtime)
