"""Product analytics and feature flags: PostHog where its project key is set, else the no-op
adapter; the experiments conversations take part in."""

import asyncio
import threading
from collections.abc import AsyncIterator

import structlog
from dishka import AnyOf, AsyncContainer, Provider, Scope, provide

from adapters.noop import NoAnalytics
from adapters.posthog import PostHogAnalytics, PostHogProject
from application.analytics import ProductAnalytics
from application.experiments import ConversationExperiments
from application.ports.analytics import Analytics
from application.ports.clock import Clock
from application.ports.feature_flags import FeatureFlags
from entrypoints.settings import Settings

__all__ = ("AnalyticsProvider", "start_analytics")

_log = structlog.get_logger("maestrist.analytics")

CLOSE_TIMEOUT_S = 5.0
"""At most this long at shutdown to send what is queued (PostHog may be unreachable)."""


class AnalyticsProvider(Provider):
    scope = Scope.APP

    @provide
    async def analytics(self, settings: Settings) -> AsyncIterator[AnyOf[Analytics, FeatureFlags]]:
        section = settings.analytics
        if section.posthog_key is None:
            yield NoAnalytics()
            return
        client = PostHogAnalytics(
            PostHogProject(
                project_key=section.posthog_key,
                secret_key=section.posthog_secret_key,
                host=section.posthog_host,
                poll_interval_s=section.posthog_poll_interval_s,
            )
        )
        client.start()
        yield client
        closing = threading.Thread(target=client.close, name="posthog-close", daemon=True)
        closing.start()
        await asyncio.to_thread(closing.join, CLOSE_TIMEOUT_S)
        if closing.is_alive():
            _log.warning("analytics_not_flushed", timeout_s=CLOSE_TIMEOUT_S)

    product_analytics = provide(ProductAnalytics)

    @provide
    def experiments(
        self,
        settings: Settings,
        flags: FeatureFlags,
        analytics: ProductAnalytics,
        clock: Clock,
    ) -> ConversationExperiments:
        return ConversationExperiments(settings.analytics.experiments, flags, analytics, clock)


async def start_analytics(container: AsyncContainer) -> None:
    """Make the analytics now, so flag definitions are polled from the start."""
    await container.get(FeatureFlags)
