"""Metrics: what a scrape of the server sees, and who may scrape it."""

from application.metrics.expose_metrics import ExposeMetrics, ExposeMetricsRequest, MetricsAccess

__all__ = ("ExposeMetrics", "ExposeMetricsRequest", "MetricsAccess")
