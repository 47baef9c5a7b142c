from dataclasses import replace
from datetime import datetime

from application.ports.webhook_inbox import WebhookInbox
from domain.webhooks.entities import DeliveryStatus, WebhookDelivery, WebhookDeliveryId
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeWebhookInbox",)


class FakeWebhookInbox(WebhookInbox):
    """The inbox over the ``FakeStore``'s ``webhook_deliveries``; a delivery id another open
    transaction recorded is waited for, as the unique index makes SQL wait."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    @property
    def _rows(self) -> dict[WebhookDeliveryId, WebhookDelivery]:
        return self._store.live.webhook_deliveries

    async def record(self, delivery: WebhookDelivery) -> bool:
        await self._locks.hold(("delivery", delivery.source, delivery.delivery_id))
        if any(
            (kept.source, kept.delivery_id) == (delivery.source, delivery.delivery_id)
            for kept in self._rows.values()
        ):
            return False
        self._rows[delivery.id_] = delivery
        return True

    async def get(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery | None:
        return self._rows.get(delivery_id)

    async def find(self, source: str, delivery_id: str) -> WebhookDelivery | None:
        return next(
            (d for d in self._rows.values() if (d.source, d.delivery_id) == (source, delivery_id)),
            None,
        )

    async def mark_processed(
        self, delivery_id: WebhookDeliveryId, at: datetime, outcome: str
    ) -> bool:
        await self._locks.hold(delivery_id)
        kept = self._rows.get(delivery_id)
        if kept is None or kept.status is not DeliveryStatus.RECEIVED:
            return False
        self._rows[delivery_id] = replace(
            kept, status=DeliveryStatus.PROCESSED, processed_at=at, outcome=outcome[:200]
        )
        return True

    async def left_received(self, before: datetime, limit: int = 100) -> list[WebhookDelivery]:
        found = [
            d
            for d in self._rows.values()
            if d.status is DeliveryStatus.RECEIVED and d.received_at < before
        ]
        return sorted(found, key=lambda d: (d.received_at, d.id_))[:limit]

    async def list(
        self,
        source: str | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
    ) -> list[WebhookDelivery]:
        found = [
            d
            for d in self._rows.values()
            if (source is None or d.source == source) and (status is None or d.status is status)
        ]
        return sorted(found, key=lambda d: (d.received_at, d.id_), reverse=True)[:limit]
