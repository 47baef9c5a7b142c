from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.login_attempts import LoginAttemptStore, PendingLogin, StartCount


class FakeLoginAttemptStore(LoginAttemptStore):
    """Attempts with deadlines on the test's clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.attempts: dict[str, tuple[datetime, PendingLogin]] = {}
        self.starts: dict[str, tuple[datetime, int]] = {}

    async def put(self, state: str, attempt: PendingLogin, ttl: timedelta) -> None:
        self.attempts[state] = (self._clock.now() + ttl, attempt)

    async def take(self, state: str) -> PendingLogin | None:
        found = self.attempts.pop(state, None)
        if found is None or found[0] <= self._clock.now():
            return None
        return found[1]

    async def count_start(self, client: str, window: timedelta) -> StartCount:
        now = self._clock.now()
        ends, count = self.starts.get(client, (now + window, 0))
        if ends <= now:
            ends, count = now + window, 0
        self.starts[client] = (ends, count + 1)
        return StartCount(count=count + 1, resets_in=ends - now)
