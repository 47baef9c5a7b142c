"""The metrics on prometheus-client, in one process or across a server's worker processes."""

import contextlib
import os
import time
from collections.abc import Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

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

__all__ = ("PREFIX", "PrometheusMetrics")

PREFIX = "maestrist"

_UNFINISHED = tuple(status for status in ConversationStatus if not status.ended)
_JOB_SECONDS = (0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)


def _pid_of(path: Path) -> int | None:
    """The process a multiprocess file is of: ``counter_1234.db``, ``gauge_livesum_1234.db``."""
    tail = path.stem.rpartition("_")[2]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the number
    return True


class PrometheusMetrics(Metrics, MetricsExposition):
    """Without ``multiprocess_dir``, counts in this process's memory, in a registry of its own.
    With it (the ``PROMETHEUS_MULTIPROC_DIR`` every worker of the server shares, set before
    prometheus-client was imported), each worker writes its values to files there, and any
    worker's exposition adds up all of them: counters over every worker that ever ran since the
    server started, the open-websocket gauge over the live ones only. A worker that stopped is
    dropped from the live gauges by ``retire`` as it stops, and one that died by the next
    exposition, which looks for files of processes that are gone (granian tells the workers no
    one else's exit)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        if multiprocess_dir is not None and (
            prometheus_values.ValueClass is prometheus_values.MutexValue
        ):
            raise RuntimeError(
                "PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported"
            )
        self._dir = multiprocess_dir
        self._registry = CollectorRegistry(auto_describe=True)
        reg = self._registry
        self._http_requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=reg,
        )
        self._http_seconds = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            registry=reg,
        )
        self._sockets_open = Gauge(
            f"{PREFIX}_websockets_open",
            "Websockets open now.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self._sockets_opened = Counter(
            f"{PREFIX}_websockets_opened", "Websockets accepted.", registry=reg
        )
        self._conversations = Gauge(
            f"{PREFIX}_conversations",
            "Conversations in each unfinished status, as the database held them at the last "
            "scrape (the whole deployment's, not this server's).",
            ["status"],
            registry=reg,
            multiprocess_mode="mostrecent",
        )
        self._conversation_errors = Counter(
            f"{PREFIX}_conversation_errors",
            "Conversations that ended in error, during their start or their run.",
            ["during"],
            registry=reg,
        )
        self._jobs_enqueued = Counter(
            f"{PREFIX}_jobs_enqueued", "Jobs enqueued, by kind.", ["kind"], registry=reg
        )
        self._job_attempts = Counter(
            f"{PREFIX}_job_attempts",
            "Job attempts ended, by kind and outcome (succeeded, failed and retried, dead).",
            ["kind", "outcome"],
            registry=reg,
        )
        self._job_seconds = Histogram(
            f"{PREFIX}_job_attempt_duration_seconds",
            "Seconds a job attempt ran, by kind.",
            ["kind"],
            registry=reg,
            buckets=_JOB_SECONDS,
        )
        self._queue = Gauge(
            f"{PREFIX}_job_queue",
            "Jobs in the queue at the last scrape, by state (due, scheduled, running, dead).",
            ["state"],
            registry=reg,
            multiprocess_mode="mostrecent",
        )
        self._queue_age = Gauge(
            f"{PREFIX}_job_queue_oldest_due_age_seconds",
            "How long the job due longest had waited at the last scrape (0: none due).",
            registry=reg,
            multiprocess_mode="mostrecent",
        )
        self._webhooks = Counter(
            f"{PREFIX}_webhook_deliveries",
            "Webhook deliveries received, by source and outcome.",
            ["source", "outcome"],
            registry=reg,
        )
        self._rate_limited = Counter(
            f"{PREFIX}_rate_limited_requests",
            "Requests refused for being over a rate limit, by policy.",
            ["policy"],
            registry=reg,
        )
        self._limiter_unavailable = Counter(
            f"{PREFIX}_rate_limiter_unavailable",
            "Hits the rate limiter could not count, by policy and what became of them.",
            ["policy", "outcome"],
            registry=reg,
        )
        self._token_refreshes = Counter(
            f"{PREFIX}_git_token_refreshes",
            "Git provider tokens near expiry refreshed or not, by provider and outcome.",
            ["provider", "outcome"],
            registry=reg,
        )
        for during in ConversationFailure:
            self._conversation_errors.labels(during.value)

    @property
    def multiprocess_dir(self) -> Path | None:
        return self._dir

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._http_requests.labels(method, route, str(status)).inc()
        self._http_seconds.labels(method, route).observe(seconds)

    def websocket_opened(self) -> None:
        self._sockets_opened.inc()
        self._sockets_open.inc()

    def websocket_closed(self) -> None:
        self._sockets_open.dec()

    def conversation_failed(self, during: ConversationFailure) -> None:
        self._conversation_errors.labels(during.value).inc()

    def job_enqueued(self, kind: str) -> None:
        self._jobs_enqueued.labels(kind).inc()

    def job_finished(self, kind: str, outcome: JobOutcome, seconds: float) -> None:
        self._job_attempts.labels(kind, outcome.value).inc()
        self._job_seconds.labels(kind).observe(seconds)

    def webhook_delivery(self, source: str, outcome: str) -> None:
        self._webhooks.labels(source, outcome).inc()

    def rate_limited(self, policy: str) -> None:
        self._rate_limited.labels(policy).inc()

    def rate_limiter_unavailable(self, policy: str, outcome: LimiterFailure) -> None:
        self._limiter_unavailable.labels(policy, outcome.value).inc()

    def token_refresh(self, provider: str, outcome: TokenRefreshOutcome) -> None:
        self._token_refreshes.labels(provider, outcome.value).inc()

    def observe_conversations(self, by_status: Mapping[ConversationStatus, int]) -> None:
        for status in _UNFINISHED:
            self._conversations.labels(status.value).set(by_status.get(status, 0))

    def observe_queue(self, depth: QueueDepth) -> None:
        for state in ("due", "scheduled", "running", "dead"):
            self._queue.labels(state).set(getattr(depth, state))
        oldest = depth.oldest_due_at
        self._queue_age.set(0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp()))

    def render(self) -> Exposition:
        if self._dir is None:
            body = generate_latest(self._registry)
        else:
            self._forget_dead_workers()
            merged = CollectorRegistry()
            MultiProcessCollector(merged, path=str(self._dir))  # type: ignore[no-untyped-call]
            body = generate_latest(merged)
        return Exposition(body=body, content_type=CONTENT_TYPE_PLAIN_0_0_4)

    def retire(self) -> None:
        """This process stops: its live gauges no longer count (its counters still do)."""
        if self._dir is not None:
            mark_process_dead(os.getpid(), str(self._dir))  # type: ignore[no-untyped-call]

    def _forget_dead_workers(self) -> None:
        assert self._dir is not None
        gone = {
            pid
            for path in self._dir.glob("gauge_live*.db")
            if (pid := _pid_of(path)) is not None and not _alive(pid)
        }
        for pid in gone:
            with contextlib.suppress(FileNotFoundError):  # another worker swept it first
                mark_process_dead(pid, str(self._dir))  # type: ignore[no-untyped-call]
