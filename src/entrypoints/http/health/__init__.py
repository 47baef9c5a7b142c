from entrypoints.http.health.controller import LIVENESS_PATH, HealthController

__all__ = ("LIVENESS_PATH", "HealthController")
