import time
from datetime import timedelta

from application.ports.login_attempts import LoginAttemptStore, PendingLogin, StartCount

__all__ = ("InProcessLoginAttemptStore",)

_MAX_ATTEMPTS = 10_000


class InProcessLoginAttemptStore(LoginAttemptStore):
    """Attempts in a dict with deadlines; bounded, so a flood of sign-in starts cannot grow it."""

    def __init__(self) -> None:
        self._attempts: dict[str, tuple[float, PendingLogin]] = {}
        self._starts: dict[str, tuple[float, int]] = {}

    async def put(self, state: str, attempt: PendingLogin, ttl: timedelta) -> None:
        now = time.monotonic()
        self._attempts = {k: v for k, v in self._attempts.items() if v[0] > now}
        while len(self._attempts) >= _MAX_ATTEMPTS:
            self._attempts.pop(next(iter(self._attempts)))
        self._attempts[state] = (now + ttl.total_seconds(), attempt)

    async def take(self, state: str) -> PendingLogin | None:
        found = self._attempts.pop(state, None)
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    async def count_start(self, client: str, window: timedelta) -> StartCount:
        now = time.monotonic()
        self._starts = {k: v for k, v in self._starts.items() if v[0] > now}
        while len(self._starts) >= _MAX_ATTEMPTS and client not in self._starts:
            self._starts.pop(next(iter(self._starts)))
        ends, count = self._starts.get(client, (now + window.total_seconds(), 0))
        self._starts[client] = (ends, count + 1)
        return StartCount(count=count + 1, resets_in=timedelta(seconds=ends - now))
