from adapters.moving_window.limiter import MovingWindowRateLimiter

__all__ = ("MovingWindowRateLimiter",)
