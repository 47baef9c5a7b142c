from datetime import UTC, datetime

from application.ports.clock import Clock

__all__ = ("SystemClock",)


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)
