"""The inbox's use cases over the fakes: accepted once, processed once, swept when its job was
lost, and a dead delivery retried or dropped."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from application.jobs import JobHandler, JobWorker
from application.ports.unit_of_work import UnitOfWork
from application.webhooks import (
    AcceptWebhook,
    AcceptWebhookRequest,
    ProcessWebhookDelivery,
    SweepWebhookInbox,
)
from application.webhooks.manage import (
    DROPPED_OUTCOME,
    DropDeadDelivery,
    ListDeliveries,
    ListDeliveriesRequest,
    RetryDeadDelivery,
)
from application.webhooks.process_delivery import SWEEP_AFTER
from application.webhooks.sources import DeliveryHeaders, SignedDelivery, WebhookSource
from domain.jobs.entities import JobStatus
from domain.jobs.errors import JobNotDeadError
from domain.webhooks.entities import DeliveryStatus, UnknownWebhookSourceError, WebhookDelivery
from tests.fakes import FakeStore
from tests.fakes.clock import FakeClock
from tests.fakes.metrics import FakeMetrics
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork

METRICS = FakeMetrics()


@dataclass
class Recorder(WebhookSource):
    """A source that takes any delivery and counts what it processed; ``fail`` makes it
    raise."""

    name: str = "test"
    max_body_bytes: int = 1024
    processed: list[str] = field(default_factory=list)
    fail: bool = False

    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        return SignedDelivery(delivery_id=headers["id"], event="thing")

    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        if self.fail:
            raise RuntimeError("the provider's API is down")
        self.processed.append(delivery.delivery_id)
        return "done"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _accept(store: FakeStore, clock: FakeClock, source: Recorder, delivery_id: str) -> str:
    uow = FakeUnitOfWork(store)
    result = await AcceptWebhook(uow, clock, {"test": source}, METRICS).execute(
        AcceptWebhookRequest(source="test", headers={"id": delivery_id}, body=b"{}")
    )
    await uow.rollback()
    return str(result.delivery.id_)


def _worker(store: FakeStore, clock: FakeClock, source: Recorder) -> JobWorker:
    @asynccontextmanager
    async def per_attempt() -> AsyncIterator[JobHandler]:
        uow = FakeUnitOfWork(store)
        try:
            yield ProcessWebhookDelivery(uow, clock, {"test": source}, METRICS)
        finally:
            await uow.rollback()

    return JobWorker(
        FakeUnitsOfWork(store), clock, {"webhook.process": per_attempt}, metrics=METRICS
    )


async def test_a_delivery_accepted_twice_is_kept_and_processed_once(
    store: FakeStore, clock: FakeClock
) -> None:
    METRICS.counts.clear()
    source = Recorder()
    first = await _accept(store, clock, source, "d-1")
    assert await _accept(store, clock, source, "d-1") == first  # the duplicate names the kept one
    worker = _worker(store, clock, source)
    assert await worker.run_one()
    assert not await worker.run_one()
    assert source.processed == ["d-1"]
    [delivery] = store.committed.webhook_deliveries.values()
    assert (delivery.status, delivery.outcome) == (DeliveryStatus.PROCESSED, "done")
    counted = {key: n for key, n in METRICS.counts.items() if key[0] == "webhook_delivery"}
    assert counted == {
        ("webhook_delivery", "test", "accepted"): 1,
        ("webhook_delivery", "test", "duplicate"): 1,
        ("webhook_delivery", "test", "processed"): 1,
    }


async def test_an_unknown_source_is_not_found(store: FakeStore, clock: FakeClock) -> None:
    with pytest.raises(UnknownWebhookSourceError):
        await AcceptWebhook(FakeUnitOfWork(store), clock, {}, METRICS).execute(
            AcceptWebhookRequest(source="test", headers={"id": "x"}, body=b"{}")
        )


async def test_a_job_run_again_after_its_delivery_was_processed_changes_nothing(
    store: FakeStore, clock: FakeClock
) -> None:
    source = Recorder()
    await _accept(store, clock, source, "d-1")
    [job] = store.committed.jobs.values()
    for _ in range(2):  # as a worker killed after the commit, before marking its job done
        uow = FakeUnitOfWork(store)
        await ProcessWebhookDelivery(uow, clock, {"test": source}, METRICS).handle(job)
        await uow.rollback()
    assert source.processed == ["d-1"]


async def test_the_sweep_enqueues_a_delivery_whose_job_was_lost_and_no_other(
    store: FakeStore, clock: FakeClock
) -> None:
    source = Recorder()
    await _accept(store, clock, source, "lost")
    await _accept(store, clock, source, "queued")
    lost = next(j for j in store.live.jobs.values() if "lost" in (j.key or ""))
    del store.live.jobs[lost.id_]
    store.commit()

    async def sweep() -> None:
        uow = FakeUnitOfWork(store)
        await SweepWebhookInbox(uow, clock, METRICS).handle(lost)
        await uow.rollback()

    await sweep()
    assert len(store.committed.jobs) == 1  # too soon
    clock.advance(SWEEP_AFTER + timedelta(seconds=1))
    await sweep()
    await sweep()
    assert sorted(j.key or "" for j in store.committed.jobs.values()) == [
        "webhook:test:lost",
        "webhook:test:queued",
    ]


async def test_a_dead_delivery_is_retried_or_dropped_and_only_a_dead_one(
    store: FakeStore, clock: FakeClock
) -> None:
    source = Recorder(fail=True)
    delivery_id = await _accept(store, clock, source, "d-1")
    worker = _worker(store, clock, source)
    for _ in range(10):
        await worker.run_one()
        clock.advance(timedelta(hours=2))
    [dead] = await ListDeliveries(FakeUnitOfWork(store)).execute(
        ListDeliveriesRequest(state="dead")
    )
    assert dead.job is not None
    assert dead.job.last_error == "RuntimeError: the provider's API is down"

    source.fail = False
    retried = await RetryDeadDelivery(FakeUnitOfWork(store), clock).execute(dead.delivery.id_)
    assert retried.state == "received"
    assert retried.job is not None
    assert (retried.job.status, retried.job.attempts) == (JobStatus.QUEUED, 0)
    assert await worker.run_one()
    assert source.processed == ["d-1"]
    with pytest.raises(JobNotDeadError):
        await RetryDeadDelivery(FakeUnitOfWork(store), clock).execute(dead.delivery.id_)

    source.fail = True
    other = await _accept(store, clock, source, "d-2")
    for _ in range(10):
        await worker.run_one()
        clock.advance(timedelta(hours=2))
    dropped = await DropDeadDelivery(FakeUnitOfWork(store), clock).execute(
        next(d.id_ for d in store.committed.webhook_deliveries.values() if str(d.id_) == other)
    )
    assert (dropped.state, dropped.delivery.outcome, dropped.job) == (
        "processed",
        DROPPED_OUTCOME,
        None,
    )
    assert str(delivery_id) != other
