from abc import abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

__all__ = ("Rate", "RateDecision", "RateLimiter", "RatePolicy")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """At most ``amount`` units in any span of ``per`` (whole seconds, at least one)."""

    amount: int
    per: timedelta

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError("a rate allows at least one unit")
        seconds = self.per.total_seconds()
        if seconds < 1 or seconds != int(seconds):
            raise ValueError("a rate's window is a whole number of seconds, at least one")

    @property
    def seconds(self) -> int:
        return int(self.per.total_seconds())


@dataclass(frozen=True, slots=True, kw_only=True)
class RatePolicy:
    """A named set of rates that each hit must pass, all of them (``20/second; 600/minute``).

    ``name`` keeps the buckets of different policies apart and is what clients see in the
    ``RateLimit`` headers.
    """

    name: str
    rates: tuple[Rate, ...]

    def __post_init__(self) -> None:
        if not self.rates:
            raise ValueError("a policy has at least one rate")
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ValueError("a policy's name is letters, digits, '-' and '_'")


@dataclass(frozen=True, slots=True, kw_only=True)
class RateDecision:
    """What one hit decided, by the rate that decided it: the one that refused, or the one
    closest to refusing."""

    allowed: bool
    rate: Rate
    remaining: int
    """Units left in that rate's window after this hit (0 when refused); read just after it,
    so hits of the same key in flight together may have taken more."""
    reset_after: timedelta
    """How long until that rate lets units through again (when refused: the wait before a
    hit of the same cost can pass, as far as the limiter can tell)."""


class RateLimiter(Protocol):
    """Counts hits per policy and key over moving windows, atomically for every caller that
    shares the limiter (one process, or every server on one Redis).

    A refused hit takes nothing; an allowed one takes ``cost`` units from every rate of the
    policy. A hit refused by one rate may still have taken its units from the rates checked
    before it: a policy's rates are counted in order, never more loosely than each allows.
    Raises ``DependencyUnavailableError`` when its store cannot answer.
    """

    @abstractmethod
    async def hit(self, policy: RatePolicy, key: str, cost: int = 1) -> RateDecision: ...
