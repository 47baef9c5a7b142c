import logging
from collections import Counter
from dataclasses import dataclass

from application.errors import DependencyUnavailableError, RateLimitedError
from application.ports.metrics import LimiterFailure, Metrics
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
    """What the limits did since this process started, by policy name: hits refused, and hits
    the limiter could not count (``unavailable``, by what became of them: ``allowed`` or
    ``refused``). Bounded: one entry per policy and outcome. Each is also told to
    ``metrics``, which adds them up across the server's processes."""

    def __init__(self, metrics: Metrics) -> None:
        self.refused: Counter[str] = Counter()
        self.unavailable: Counter[tuple[str, str]] = Counter()
        self._metrics = metrics

    def count_refused(self, policy: str) -> None:
        self.refused[policy] += 1
        self._metrics.rate_limited(policy)

    def count_unavailable(self, policy: str, outcome: LimiterFailure) -> None:
        self.unavailable[policy, outcome.value] += 1
        self._metrics.rate_limiter_unavailable(policy, outcome)


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
            outcome = LimiterFailure.ALLOWED if limit.fail_open else LimiterFailure.REFUSED
            self._counters.count_unavailable(name, outcome)
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
            self._counters.count_refused(name)
            raise RateLimitedError(policy=limit.policy, decision=decision)
        return decision
