from datetime import UTC, datetime, timedelta

from application.ports.clock import Clock


class FakeClock(Clock):
    """Starts at a fixed instant and moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
