from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from application.ports.job_queue import QueueDepth
from domain.conversations.entities import ConversationStatus

__all__ = (
    "UNMATCHED_ROUTE",
    "ConversationFailure",
    "Exposition",
    "JobOutcome",
    "LimiterFailure",
    "Metrics",
    "MetricsExposition",
    "TokenRefreshOutcome",
)

UNMATCHED_ROUTE = "unmatched"
"""The route of every request no route answered (404, 405): one bucket, whatever its path."""


class JobOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """The attempt failed and the job is queued again."""
    DEAD = "dead"
    """The job failed for good: no attempts left, a permanent error, or no handler."""


class LimiterFailure(StrEnum):
    """What became of a hit the rate limiter could not count."""

    ALLOWED = "allowed"
    REFUSED = "refused"


class TokenRefreshOutcome(StrEnum):
    REFRESHED = "refreshed"
    REFUSED = "refused"
    """The token cannot be refreshed (the provider refused, or nothing to refresh it with):
    the user must reconnect the provider."""
    UNAVAILABLE = "unavailable"
    """The provider did not answer; nothing changed."""


class ConversationFailure(StrEnum):
    """When a conversation ended in ``error``."""

    START = "start"
    """Before it was ready: its sandbox, the clone or the setup script failed, or it timed
    out."""
    RUN = "run"
    """While its runtime ran it: the runtime reported an error, or was lost."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposition:
    body: bytes
    content_type: str


class Metrics(Protocol):
    """Numbers an operator scrapes. Every label is from a bounded set: a status, an outcome, a
    route template, a job kind, a policy or provider name; never an id, an address or a raw
    path. Recording never fails and never waits: it is safe on every request's path.

    Counters add up across all of a server's worker processes; ``observe_*`` gauges report
    the last reading taken by any of them."""

    @abstractmethod
    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """A request answered; ``route`` is its route's template, or ``UNMATCHED_ROUTE``."""

    @abstractmethod
    def websocket_opened(self) -> None:
        """A websocket was accepted; it counts as open until ``websocket_closed``."""

    @abstractmethod
    def websocket_closed(self) -> None: ...

    @abstractmethod
    def conversation_failed(self, during: ConversationFailure) -> None:
        """A conversation ended in ``error``."""

    @abstractmethod
    def job_enqueued(self, kind: str) -> None:
        """A job of ``kind`` was committed to the queue."""

    @abstractmethod
    def job_finished(self, kind: str, outcome: JobOutcome, seconds: float) -> None:
        """An attempt at a job of ``kind`` ended, after ``seconds``."""

    @abstractmethod
    def webhook_delivery(self, source: str, outcome: str) -> None:
        """A webhook delivery from ``source`` (``github``, ``slack``...) was received and
        ended in ``outcome`` (``accepted``, ``duplicate``, ``rejected``...: the inbox's own
        bounded set)."""

    @abstractmethod
    def rate_limited(self, policy: str) -> None:
        """A hit over the limit of ``policy`` was refused (429)."""

    @abstractmethod
    def rate_limiter_unavailable(self, policy: str, outcome: LimiterFailure) -> None:
        """The limiter could not count a hit of ``policy``; ``outcome`` says what became of
        it."""

    @abstractmethod
    def token_refresh(self, provider: str, outcome: TokenRefreshOutcome) -> None:
        """A git provider's token near expiry was refreshed, or could not be."""

    @abstractmethod
    def observe_conversations(self, by_status: Mapping[ConversationStatus, int]) -> None:
        """How many conversations are in each unfinished status now; a status missing from
        ``by_status`` has none."""

    @abstractmethod
    def observe_queue(self, depth: QueueDepth) -> None:
        """The job queue's depth now."""


class MetricsExposition(Protocol):
    @abstractmethod
    def render(self) -> Exposition:
        """Everything recorded, by every worker process of this server, in the text format a
        scraper reads."""
