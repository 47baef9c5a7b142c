from collections import Counter
from collections.abc import Mapping

from application.ports.job_queue import QueueDepth
from application.ports.metrics import (
    ConversationFailure,
    Exposition,
    JobOutcome,
    LimiterFailure,
    Metrics,
    MetricsExposition,
    TokenRefreshOutcome,
)
from domain.conversations.entities import ConversationStatus

__all__ = ("FakeMetrics",)


class FakeMetrics(Metrics, MetricsExposition):
    """Counts what it is told in ``counts``, keyed by the method's name and its labels
    (``("job_finished", "mail.send", "dead")``); keeps the last readings and open sockets."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.durations: list[tuple[str, float]] = []
        self.sockets_open = 0
        self.conversations: dict[ConversationStatus, int] = {}
        self.queue: QueueDepth | None = None
        self.renders = 0

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.counts["http_request", method, route, str(status)] += 1
        self.durations.append((route, seconds))

    def websocket_opened(self) -> None:
        self.counts["websocket_opened",] += 1
        self.sockets_open += 1

    def websocket_closed(self) -> None:
        self.sockets_open -= 1

    def conversation_failed(self, during: ConversationFailure) -> None:
        self.counts["conversation_failed", during.value] += 1

    def job_enqueued(self, kind: str) -> None:
        self.counts["job_enqueued", kind] += 1

    def job_finished(self, kind: str, outcome: JobOutcome, seconds: float) -> None:
        self.counts["job_finished", kind, outcome.value] += 1
        self.durations.append((kind, seconds))

    def webhook_delivery(self, source: str, outcome: str) -> None:
        self.counts["webhook_delivery", source, outcome] += 1

    def rate_limited(self, policy: str) -> None:
        self.counts["rate_limited", policy] += 1

    def rate_limiter_unavailable(self, policy: str, outcome: LimiterFailure) -> None:
        self.counts["rate_limiter_unavailable", policy, outcome.value] += 1

    def token_refresh(self, provider: str, outcome: TokenRefreshOutcome) -> None:
        self.counts["token_refresh", provider, outcome.value] += 1

    def observe_conversations(self, by_status: Mapping[ConversationStatus, int]) -> None:
        self.conversations = {s: by_status.get(s, 0) for s in ConversationStatus if not s.ended}

    def observe_queue(self, depth: QueueDepth) -> None:
        self.queue = depth

    def render(self) -> Exposition:
        self.renders += 1
        lines = [f"{' '.join(key)} {value}" for key, value in sorted(self.counts.items())]
        return Exposition(body="\n".join(lines).encode(), content_type="text/plain")
