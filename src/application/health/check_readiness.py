import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from application.errors import (
    DependencyFailedError,
    DependencyPreparingError,
    DependencyUnavailableError,
)
from application.ports.dependency_probe import DependencyProbe

__all__ = (
    "CheckReadiness",
    "CheckReadinessRequest",
    "CheckReadinessResult",
    "DependencyState",
    "DependencyStatus",
)


class DependencyState(StrEnum):
    UP = "up"
    DOWN = "down"
    PREPARING = "preparing"
    """Being set up; the server is ready meanwhile, only what needs it waits."""
    FAILED = "failed"
    """Setting it up failed; it stays so until an operator acts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DependencyStatus:
    name: str
    state: DependencyState
    latency_ms: float
    error: str | None = None

    @property
    def up(self) -> bool:
        return self.state is DependencyState.UP


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReadinessRequest:
    """Nothing to choose: every bound dependency is probed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReadinessResult:
    dependencies: tuple[DependencyStatus, ...]

    @property
    def ready(self) -> bool:
        return all(
            dep.state in {DependencyState.UP, DependencyState.PREPARING}
            for dep in self.dependencies
        )


class CheckReadiness:
    """Probe every bound dependency at once, each within its own time limit. Ready while each
    is up or still being prepared (the agent runtime installing itself: everything but
    starting a conversation works meanwhile). Public."""

    def __init__(self, probes: Sequence[DependencyProbe], timeout_s: float) -> None:
        self._probes = probes
        self._timeout_s = timeout_s

    async def execute(self, request: CheckReadinessRequest) -> CheckReadinessResult:
        statuses = await asyncio.gather(*(self._probe(probe) for probe in self._probes))
        return CheckReadinessResult(dependencies=tuple(statuses))

    async def _probe(self, probe: DependencyProbe) -> DependencyStatus:
        started = time.perf_counter()
        state = DependencyState.UP
        error: str | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                await probe.check()
        except TimeoutError:
            state, error = DependencyState.DOWN, f"no answer within {self._timeout_s:g} s"
        except DependencyPreparingError as exc:
            state, error = DependencyState.PREPARING, exc.message
        except DependencyFailedError as exc:
            state, error = DependencyState.FAILED, exc.message
        except DependencyUnavailableError as exc:
            state, error = DependencyState.DOWN, exc.message
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        return DependencyStatus(name=probe.name, state=state, latency_ms=elapsed_ms, error=error)
