from application.health.check_readiness import (
    CheckReadiness,
    CheckReadinessRequest,
    CheckReadinessResult,
    DependencyState,
    DependencyStatus,
)

__all__ = (
    "CheckReadiness",
    "CheckReadinessRequest",
    "CheckReadinessResult",
    "DependencyState",
    "DependencyStatus",
)
