"""Product analytics: what is reported about a person, only with their consent."""

from application.analytics.product_analytics import ProductAnalytics, experiment_properties

__all__ = ("ProductAnalytics", "experiment_properties")
