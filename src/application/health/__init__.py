from application.health.check_readiness import (
    CheckReadiness,
    DependencyStatus,
    ReadinessReport,
)

__all__ = ("CheckReadiness", "DependencyStatus", "ReadinessReport")
