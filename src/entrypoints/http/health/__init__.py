from entrypoints.http.health.controller import HealthController

__all__ = ("HealthController",)
