"""PostHog: product analytics and feature flags through its SDK."""

from adapters.posthog.client import CONSENTED, PostHogAnalytics, PostHogProject

__all__ = ("CONSENTED", "PostHogAnalytics", "PostHogProject")
