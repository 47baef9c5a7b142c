import logging
from collections import Counter
from dataclasses import dataclass

from application.errors import DependencyUnavailableError, RateLimitedError
from application.ports.rate_limiter import RateDecision, RateLimiter, RatePolicy

__all__ = ("Limit", "RateLimitCounters", "Throttle")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """A policy, and whether a hit passes (``fail_open``) or is refused while the limiter
    cannot answer: reads stay up through a Redis outage, costly actions do not run
    uncounted."""

    policy: RatePolicy
    fail_open: bool


class RateLimitCounters:
    """What the limits did since the server started, by policy name: hits refused, and hits
    the limiter could not count (``unavailable``, by what became of them: ``allowed`` or
    ``refused``). Bounded: one entry per policy and outcome. For a metrics exporter."""

    def __init__(self) -> None:
        self.refused: Counter[str] = Counter()
        self.unavailable: Counter[tuple[str, str]] = Counter()


class Throttle:
    """Holds a caller to a limit: returns what the limiter decided, raises
    ``RateLimitedError`` when the caller is over it. When the limiter cannot answer, the
    hit passes (returning ``None``) if the limit fails open, else
    ``DependencyUnavailableError`` refuses it; either way it is logged and counted."""

    def __init__(self, limiter: RateLimiter, counters: RateLimitCounters) -> None:
        self._limiter = limiter
        self._counters = counters

    async def hit(self, limit: Limit, key: str, cost: int = 1) -> RateDecision | None:
        name = limit.policy.name
        try:
            decision = await self._limiter.hit(limit.policy, key, cost)
        except DependencyUnavailableError as exc:
            outcome = "allowed" if limit.fail_open else "refused"
            self._counters.unavailable[name, outcome] += 1
            _log.warning(
                "rate limit %s could not be checked, so the request is %s: %s",
                name,
                outcome,
                exc.message,
            )
            if limit.fail_open:
                return None
            raise DependencyUnavailableError(
                "Rate limits cannot be checked right now, so this action is refused; "
                "try again shortly."
            ) from exc
        if not decision.allowed:
            self._counters.refused[name] += 1
            raise RateLimitedError(policy=limit.policy, decision=decision)
        return decision
