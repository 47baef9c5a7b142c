import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from application.errors import DependencyUnavailableError
from application.ports.dependency_probe import DependencyProbe

__all__ = ("CheckReadiness", "DependencyStatus", "ReadinessReport")


@dataclass(frozen=True, slots=True, kw_only=True)
class DependencyStatus:
    name: str
    up: bool
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadinessReport:
    dependencies: tuple[DependencyStatus, ...]

    @property
    def ready(self) -> bool:
        return all(dep.up for dep in self.dependencies)


class CheckReadiness:
    """Probe every bound dependency at once, each within its own time limit. Public."""

    def __init__(self, probes: Sequence[DependencyProbe], timeout_s: float) -> None:
        self._probes = probes
        self._timeout_s = timeout_s

    async def execute(self) -> ReadinessReport:
        statuses = await asyncio.gather(*(self._probe(probe) for probe in self._probes))
        return ReadinessReport(dependencies=tuple(statuses))

    async def _probe(self, probe: DependencyProbe) -> DependencyStatus:
        started = time.perf_counter()
        error: str | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                await probe.check()
        except TimeoutError:
            error = f"no answer within {self._timeout_s:g} s"
        except DependencyUnavailableError as exc:
            error = exc.message
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        return DependencyStatus(
            name=probe.name, up=error is None, latency_ms=elapsed_ms, error=error
        )
