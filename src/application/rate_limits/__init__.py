"""Rate limits: who may cost how much, and what happens when the limiter cannot answer."""

from application.rate_limits.costs import CostlyAction, Costs
from application.rate_limits.throttle import Limit, RateLimitCounters, Throttle

__all__ = ("CostlyAction", "Costs", "Limit", "RateLimitCounters", "Throttle")
