from dataclasses import dataclass
from datetime import timedelta

from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.unit_of_work import UnitOfWork
from application.webhooks.sources import DeliveryHeaders, WebhookSource, WebhookSources
from domain.jobs.entities import NewJob, RetryPolicy
from domain.shared.errors import InvalidValueError
from domain.webhooks.entities import (
    DeliveryOutcome,
    UnknownWebhookSourceError,
    WebhookDelivery,
    WebhookSignatureError,
)

__all__ = (
    "PROCESS_DELIVERY",
    "PROCESS_RETRY",
    "AcceptWebhook",
    "AcceptWebhookRequest",
    "AcceptWebhookResult",
    "processing_job",
)

PROCESS_DELIVERY = "webhook.process"
PROCESS_RETRY = RetryPolicy(
    max_attempts=10,
    timeout=timedelta(minutes=2),
    backoff=timedelta(seconds=15),
    max_backoff=timedelta(hours=1),
)


def processing_job(delivery: WebhookDelivery) -> NewJob:
    """The one job that processes ``delivery``."""
    return NewJob(
        kind=PROCESS_DELIVERY,
        payload={"delivery": str(delivery.id_), "source": delivery.source},
        key=delivery.job_key,
        retry=PROCESS_RETRY,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptWebhookRequest:
    source: str
    headers: DeliveryHeaders
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptWebhookResult:
    delivery: WebhookDelivery
    duplicate: bool
    """Its source had delivered it already: nothing more was done."""


class AcceptWebhook:
    """Take a delivery in: verify its signature over the exact body, then record it and
    enqueue its processing in one transaction, so it is answered at once and processed once,
    whether or not a worker is running, however often it is delivered."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, sources: WebhookSources, metrics: Metrics
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sources = sources
        self._metrics = metrics

    async def execute(self, request: AcceptWebhookRequest) -> AcceptWebhookResult:
        source = self._sources.get(request.source)
        if source is None:
            raise UnknownWebhookSourceError  # not counted: the name is the caller's
        try:
            delivery = await self._receive(source, request)
        except WebhookSignatureError:
            self._metrics.webhook_delivery(source.name, DeliveryOutcome.REJECTED)
            raise
        except InvalidValueError:
            self._metrics.webhook_delivery(source.name, DeliveryOutcome.INVALID)
            raise
        if not await self._uow.webhooks.record(delivery):
            self._metrics.webhook_delivery(source.name, DeliveryOutcome.DUPLICATE)
            kept = await self._uow.webhooks.find(delivery.source, delivery.delivery_id)
            return AcceptWebhookResult(delivery=kept or delivery, duplicate=True)
        job = processing_job(delivery)
        await self._uow.jobs.enqueue(job, delivery.received_at)
        await self._uow.commit()
        self._metrics.webhook_delivery(source.name, DeliveryOutcome.ACCEPTED)
        self._metrics.job_enqueued(job.kind)
        return AcceptWebhookResult(delivery=delivery, duplicate=False)

    async def _receive(
        self, source: WebhookSource, request: AcceptWebhookRequest
    ) -> WebhookDelivery:
        signed = await source.verify_stored(request.headers, request.body, self._uow)
        try:
            body = request.body.decode()
        except UnicodeDecodeError:
            raise InvalidValueError("The delivery's body is not UTF-8.", field="body") from None
        return WebhookDelivery.receive(
            source=source.name,
            delivery_id=signed.delivery_id,
            event=signed.event,
            body=body,
            now=self._clock.now(),
        )
