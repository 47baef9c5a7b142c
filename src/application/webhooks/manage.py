"""What an operator does with the inbox: look at deliveries, and retry or drop the ones whose
processing died."""

from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.jobs.entities import Job, JobStatus
from domain.jobs.errors import JobNotDeadError
from domain.shared.errors import NotFoundError
from domain.webhooks.entities import DeliveryStatus, WebhookDelivery, WebhookDeliveryId

__all__ = (
    "DROPPED_OUTCOME",
    "DeliveryView",
    "DropDeadDelivery",
    "ListDeliveries",
    "ListDeliveriesRequest",
    "RetryDeadDelivery",
    "ShowDelivery",
)

DROPPED_OUTCOME = "dropped by an operator"


class DeliveryNotFoundError(NotFoundError):
    code = "webhook-delivery-not-found"
    default_message = "No webhook delivery has this id."


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryView:
    """A delivery with its processing job (None once the job was pruned or dropped)."""

    delivery: WebhookDelivery
    job: Job | None

    @property
    def dead(self) -> bool:
        return (
            self.delivery.status is DeliveryStatus.RECEIVED
            and self.job is not None
            and self.job.status is JobStatus.DEAD
        )

    @property
    def state(self) -> str:
        return "dead" if self.dead else self.delivery.status.value


@dataclass(frozen=True, slots=True, kw_only=True)
class ListDeliveriesRequest:
    source: str | None = None
    state: str | None = None
    """``received``, ``processed`` or ``dead`` (received, its processing dead)."""
    limit: int = 100


async def _view(uow: UnitOfWork, delivery: WebhookDelivery) -> DeliveryView:
    return DeliveryView(delivery=delivery, job=await uow.jobs.find(delivery.job_key))


class ListDeliveries:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListDeliveriesRequest) -> list[DeliveryView]:
        status = DeliveryStatus.PROCESSED if request.state == "processed" else None
        if request.state in {"received", "dead"}:
            status = DeliveryStatus.RECEIVED
        found = await self._uow.webhooks.list(request.source, status, request.limit)
        views = [await _view(self._uow, delivery) for delivery in found]
        if request.state is None:
            return views
        return [view for view in views if view.state == request.state]


class ShowDelivery:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, delivery_id: WebhookDeliveryId) -> DeliveryView:
        delivery = await self._uow.webhooks.get(delivery_id)
        if delivery is None:
            raise DeliveryNotFoundError(f"No webhook delivery has the id {delivery_id}.")
        return await _view(self._uow, delivery)


async def _dead(uow: UnitOfWork, delivery_id: WebhookDeliveryId) -> DeliveryView:
    view = await ShowDelivery(uow).execute(delivery_id)
    if not view.dead or view.job is None:
        raise JobNotDeadError(
            f"Delivery {delivery_id} is {view.state}: only a delivery whose processing died "
            "can be retried or dropped."
        )
    return view


class RetryDeadDelivery:
    """Process a dead delivery again: its job is queued, due now, with all its attempts."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, delivery_id: WebhookDeliveryId) -> DeliveryView:
        view = await _dead(self._uow, delivery_id)
        assert view.job is not None
        await self._uow.jobs.revive(view.job.id_, self._clock.now())
        await self._uow.commit()
        return await _view(self._uow, view.delivery)


class DropDeadDelivery:
    """Give a dead delivery up: it is marked processed, as dropped, and its job deleted; the
    inbox's sweep then leaves it be."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, delivery_id: WebhookDeliveryId) -> DeliveryView:
        view = await _dead(self._uow, delivery_id)
        assert view.job is not None
        await self._uow.webhooks.mark_processed(delivery_id, self._clock.now(), DROPPED_OUTCOME)
        await self._uow.jobs.drop(view.job.id_)
        await self._uow.commit()
        return await ShowDelivery(self._uow).execute(delivery_id)
