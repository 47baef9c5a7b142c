from entrypoints.http.metrics.controller import METRICS_PATH, MetricsController
from entrypoints.http.metrics.middleware import HttpMetricsMiddleware, install_http_metrics

__all__ = ("METRICS_PATH", "HttpMetricsMiddleware", "MetricsController", "install_http_metrics")
