"""Prometheus metrics through prometheus-client, multiprocess across a server's workers."""

from adapters.prometheus.metrics import PREFIX, PrometheusMetrics

__all__ = ("PREFIX", "PrometheusMetrics")
