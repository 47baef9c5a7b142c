from datetime import timedelta
from uuid import UUID

from application.jobs.handlers import JobHandler, PermanentJobError
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.unit_of_work import UnitOfWork
from application.webhooks.accept_webhook import processing_job
from application.webhooks.sources import WebhookSources
from domain.jobs.entities import Job
from domain.webhooks.entities import DeliveryOutcome, DeliveryStatus, WebhookDeliveryId

__all__ = ("SWEEP_AFTER", "SWEEP_INBOX", "ProcessWebhookDelivery", "SweepWebhookInbox")

SWEEP_INBOX = "webhook.sweep"
SWEEP_AFTER = timedelta(minutes=5)
"""How long a delivery may wait for its job before the sweep enqueues it again."""


class ProcessWebhookDelivery(JobHandler):
    """Process one delivery through its source, and mark it processed in the same
    transaction as what processing changed: a delivery processed already is skipped, so a
    retried job changes nothing twice."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, sources: WebhookSources, metrics: Metrics
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sources = sources
        self._metrics = metrics

    async def handle(self, job: Job) -> None:
        try:
            delivery_id = WebhookDeliveryId(UUID(str(job.payload["delivery"])))
        except (KeyError, ValueError) as exc:
            raise PermanentJobError(f"the job names no delivery: {exc}") from exc
        delivery = await self._uow.webhooks.get(delivery_id)
        if delivery is None:
            raise PermanentJobError(f"no delivery {delivery_id} is kept")
        if delivery.status is DeliveryStatus.PROCESSED:
            return
        source = self._sources.get(delivery.source)
        if source is None:
            raise PermanentJobError(f"webhooks from {delivery.source} are no longer configured")
        outcome = await source.process(delivery, self._uow)
        if await self._uow.webhooks.mark_processed(delivery.id_, self._clock.now(), outcome):
            await self._uow.commit()
            self._metrics.webhook_delivery(delivery.source, DeliveryOutcome.PROCESSED)


class SweepWebhookInbox(JobHandler):
    """A scheduled safety net: a delivery received a while ago and still unprocessed gets its
    processing job enqueued again. Deliveries and their jobs commit together, so this finds
    work only when a job was lost another way (an operator dropped it); a delivery whose job
    is still kept, waiting or dead, is left to it (the job key makes the enqueue a no-op)."""

    def __init__(self, uow: UnitOfWork, clock: Clock, metrics: Metrics) -> None:
        self._uow = uow
        self._clock = clock
        self._metrics = metrics

    async def handle(self, job: Job) -> None:
        del job
        now = self._clock.now()
        enqueued = [
            processing_job(delivery)
            for delivery in await self._uow.webhooks.left_received(now - SWEEP_AFTER, limit=500)
        ]
        enqueued = [new for new in enqueued if await self._uow.jobs.enqueue(new, now)]
        await self._uow.commit()
        for new in enqueued:
            self._metrics.job_enqueued(new.kind)
