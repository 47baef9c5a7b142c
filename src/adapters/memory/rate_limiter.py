from limits.aio.storage import MemoryStorage

from adapters.moving_window import MovingWindowRateLimiter

__all__ = ("InProcessRateLimiter",)


class InProcessRateLimiter(MovingWindowRateLimiter):
    """Moving windows in this process's memory: the embedded binding's one server. A key's
    instants are dropped once its window has passed, so idle keys cost nothing."""

    def __init__(self) -> None:
        super().__init__(MemoryStorage())
