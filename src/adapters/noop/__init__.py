"""Adapters for services a deployment may go without: they do nothing, and never fail."""

from adapters.noop.analytics import NoAnalytics

__all__ = ("NoAnalytics",)
