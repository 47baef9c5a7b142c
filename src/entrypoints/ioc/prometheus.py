"""Metrics: prometheus-client, multiprocess when ``maestrist serve`` gave its workers a
directory to share; the endpoint's token when one is set."""

import os
from collections.abc import Iterator
from pathlib import Path

from dishka import AnyOf, Provider, Scope, provide

from adapters.prometheus import PrometheusMetrics
from application.metrics import MetricsAccess
from application.ports.metrics import Metrics, MetricsExposition
from entrypoints.settings import Settings
from entrypoints.settings.metrics import MULTIPROCESS_DIR_ENV

__all__ = ("MetricsEndpointProvider", "PrometheusProvider")


class PrometheusProvider(Provider):
    scope = Scope.APP

    @provide
    def metrics(self) -> Iterator[AnyOf[PrometheusMetrics, Metrics, MetricsExposition]]:
        shared = os.environ.get(MULTIPROCESS_DIR_ENV)
        metrics = PrometheusMetrics(Path(shared) if shared else None)
        yield metrics
        metrics.retire()


class MetricsEndpointProvider(Provider):
    """Only where ``MAESTRIST_METRICS_TOKEN`` is set: the endpoint exists with it."""

    scope = Scope.APP

    @provide
    def access(self, settings: Settings) -> MetricsAccess:
        assert settings.metrics.token is not None
        return MetricsAccess(token=settings.metrics.token)
