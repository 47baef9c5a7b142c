from typing import Literal

import msgspec

from application.health.check_readiness import CheckReadinessResult

__all__ = ("DependencyOut", "Liveness", "Readiness")


class Liveness(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ok"] = "ok"


class DependencyOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    status: Literal["up", "down", "preparing", "failed"]
    latency_ms: float
    error: str | None = None


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ready", "unavailable"]
    dependencies: dict[str, DependencyOut]

    @classmethod
    def from_report(cls, report: CheckReadinessResult) -> "Readiness":
        return cls(
            status="ready" if report.ready else "unavailable",
            dependencies={
                dep.name: DependencyOut(
                    status=dep.state.value, latency_ms=dep.latency_ms, error=dep.error
                )
                for dep in report.dependencies
            },
        )
