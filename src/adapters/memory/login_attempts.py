from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.login_attempts import LoginAttemptStore, PendingLogin, StartCount

__all__ = ("InProcessLoginAttemptStore",)

_MAX_ATTEMPTS = 10_000


class InProcessLoginAttemptStore(LoginAttemptStore):
    """Attempts in a dict with deadlines on ``clock``; bounded, so a flood of sign-in starts
    cannot grow it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._attempts: dict[str, tuple[datetime, PendingLogin]] = {}
        self._starts: dict[str, tuple[datetime, int]] = {}

    async def put(self, state: str, attempt: PendingLogin, ttl: timedelta) -> None:
        now = self._clock.now()
        self._attempts = {k: v for k, v in self._attempts.items() if v[0] > now}
        while len(self._attempts) >= _MAX_ATTEMPTS:
            self._attempts.pop(next(iter(self._attempts)))
        self._attempts[state] = (now + ttl, attempt)

    async def take(self, state: str) -> PendingLogin | None:
        found = self._attempts.pop(state, None)
        if found is None or found[0] <= self._clock.now():
            return None
        return found[1]

    async def count_start(self, client: str, window: timedelta) -> StartCount:
        now = self._clock.now()
        self._starts = {k: v for k, v in self._starts.items() if v[0] > now}
        while len(self._starts) >= _MAX_ATTEMPTS and client not in self._starts:
            self._starts.pop(next(iter(self._starts)))
        ends, count = self._starts.get(client, (now + window, 0))
        self._starts[client] = (ends, count + 1)
        return StartCount(count=count + 1, resets_in=ends - now)
