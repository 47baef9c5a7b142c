from application.health.check_readiness import (
    CheckReadiness,
    DependencyState,
    DependencyStatus,
    ReadinessReport,
)

__all__ = ("CheckReadiness", "DependencyState", "DependencyStatus", "ReadinessReport")
