"""Every ``Metrics`` counts each event under its own labels and reports the last reading of
each gauge: the fake, and prometheus-client (read back from its exposition)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.prometheus import PrometheusMetrics
from application.ports.job_queue import QueueDepth
from application.ports.metrics import (
    UNMATCHED_ROUTE,
    ConversationFailure,
    JobOutcome,
    LimiterFailure,
    Metrics,
    TokenRefreshOutcome,
)
from domain.conversations.entities import ConversationStatus
from tests.fakes.metrics import FakeMetrics

_SAMPLES = {
    "http_request": ("maestrist_http_requests_total", ("method", "route", "status")),
    "websocket_opened": ("maestrist_websockets_opened_total", ()),
    "conversation_failed": ("maestrist_conversation_errors_total", ("during",)),
    "job_enqueued": ("maestrist_jobs_enqueued_total", ("kind",)),
    "job_finished": ("maestrist_job_attempts_total", ("kind", "outcome")),
    "webhook_delivery": ("maestrist_webhook_deliveries_total", ("source", "outcome")),
    "rate_limited": ("maestrist_rate_limited_requests_total", ("policy",)),
    "rate_limiter_unavailable": (
        "maestrist_rate_limiter_unavailable_total",
        ("policy", "outcome"),
    ),
    "token_refresh": ("maestrist_git_token_refreshes_total", ("provider", "outcome")),
}
"""Where each event of the port shows in the exposition."""


@dataclass
class Probe:
    sut: Metrics
    count: Callable[..., float]
    """``count("job_finished", "mail.send", "dead")``: how often that was recorded."""
    gauge: Callable[[str, str], float]
    """``gauge("conversations", "running")``, ``gauge("queue", "due")``,
    ``gauge("sockets", "")``."""


def _samples(sut: PrometheusMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = sut.render().body.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _prometheus_probe() -> Probe:
    sut = PrometheusMetrics()

    def count(event: str, *labels: str) -> float:
        name, names = _SAMPLES[event]
        return _samples(sut).get((name, frozenset(zip(names, labels, strict=True))), 0.0)

    def gauge(kind: str, label: str) -> float:
        name, labels = {
            "conversations": ("maestrist_conversations", {"status": label}),
            "queue": ("maestrist_job_queue", {"state": label}),
            "sockets": ("maestrist_websockets_open", {}),
        }[kind]
        return _samples(sut)[name, frozenset(labels.items())]

    return Probe(sut, count, gauge)


def _fake_probe() -> Probe:
    fake = FakeMetrics()

    def gauge(kind: str, label: str) -> float:
        if kind == "sockets":
            return fake.sockets_open
        if kind == "conversations":
            return fake.conversations[ConversationStatus(label)]
        assert fake.queue is not None
        value: int = getattr(fake.queue, label)
        return value

    return Probe(fake, lambda event, *labels: fake.counts[event, *labels], gauge)


@pytest.fixture(params=["fake", "prometheus"])
def probe(request: pytest.FixtureRequest) -> Probe:
    return _fake_probe() if request.param == "fake" else _prometheus_probe()


async def test_each_event_counts_under_its_own_labels(probe: Probe) -> None:
    sut = probe.sut
    sut.http_request("GET", "/api/conversations", 200, 0.01)
    sut.http_request("GET", "/api/conversations", 200, 0.02)
    sut.http_request("GET", UNMATCHED_ROUTE, 404, 0.001)
    sut.conversation_failed(ConversationFailure.START)
    sut.job_enqueued("mail.send")
    sut.job_finished("mail.send", JobOutcome.FAILED, 0.5)
    sut.job_finished("mail.send", JobOutcome.DEAD, 0.5)
    sut.webhook_delivery("github", "accepted")
    sut.webhook_delivery("github", "duplicate")
    sut.rate_limited("user")
    sut.rate_limiter_unavailable("costly", LimiterFailure.REFUSED)
    sut.token_refresh("gitlab", TokenRefreshOutcome.REFRESHED)

    assert probe.count("http_request", "GET", "/api/conversations", "200") == 2
    assert probe.count("http_request", "GET", UNMATCHED_ROUTE, "404") == 1
    assert probe.count("http_request", "POST", "/api/conversations", "200") == 0
    assert probe.count("conversation_failed", "start") == 1
    assert probe.count("conversation_failed", "run") == 0
    assert probe.count("job_enqueued", "mail.send") == 1
    assert probe.count("job_finished", "mail.send", "failed") == 1
    assert probe.count("job_finished", "mail.send", "dead") == 1
    assert probe.count("job_finished", "mail.send", "succeeded") == 0
    assert probe.count("webhook_delivery", "github", "accepted") == 1
    assert probe.count("webhook_delivery", "github", "duplicate") == 1
    assert probe.count("rate_limited", "user") == 1
    assert probe.count("rate_limiter_unavailable", "costly", "refused") == 1
    assert probe.count("rate_limiter_unavailable", "costly", "allowed") == 0
    assert probe.count("token_refresh", "gitlab", "refreshed") == 1


async def test_open_websockets_rise_and_fall_while_opened_only_rises(probe: Probe) -> None:
    sut = probe.sut
    sut.websocket_opened()
    sut.websocket_opened()
    sut.websocket_closed()

    assert probe.gauge("sockets", "") == 1
    assert probe.count("websocket_opened") == 2


async def test_a_reading_replaces_the_last_and_a_status_left_out_reads_zero(probe: Probe) -> None:
    sut = probe.sut
    sut.observe_conversations({ConversationStatus.RUNNING: 3, ConversationStatus.STARTING: 1})
    sut.observe_conversations({ConversationStatus.RUNNING: 2})

    assert probe.gauge("conversations", "running") == 2
    assert probe.gauge("conversations", "starting") == 0
    assert probe.gauge("conversations", "paused") == 0


async def test_the_queue_reads_as_observed(probe: Probe) -> None:
    now = datetime.now(UTC)
    probe.sut.observe_queue(
        QueueDepth(due=4, scheduled=2, running=1, dead=3, oldest_due_at=now - timedelta(1))
    )
    assert [probe.gauge("queue", state) for state in ("due", "scheduled", "running", "dead")] == [
        4,
        2,
        1,
        3,
    ]
