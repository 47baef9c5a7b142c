from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.webhooks.entities import DeliveryStatus, WebhookDelivery, WebhookDeliveryId

__all__ = ("WebhookInbox",)


class WebhookInbox(Protocol):
    """Every webhook delivery accepted, once per ``(source, delivery_id)``. Transactional: the
    unit of work commits, so a delivery is recorded with its processing job or not at all."""

    @abstractmethod
    async def record(self, delivery: WebhookDelivery) -> bool:
        """Keep ``delivery``; False, keeping nothing, when its source already delivered one
        with its ``delivery_id``."""

    @abstractmethod
    async def get(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery | None: ...

    @abstractmethod
    async def find(self, source: str, delivery_id: str) -> WebhookDelivery | None:
        """The delivery ``source`` sent under its own ``delivery_id``."""

    @abstractmethod
    async def mark_processed(
        self, delivery_id: WebhookDeliveryId, at: datetime, outcome: str
    ) -> bool:
        """Record that it was processed, with what came of it; False when it already was."""

    @abstractmethod
    async def left_received(self, before: datetime, limit: int = 100) -> list[WebhookDelivery]:
        """Deliveries received before ``before`` and not processed yet, oldest first."""

    @abstractmethod
    async def list(
        self,
        source: str | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
    ) -> list[WebhookDelivery]:
        """Deliveries newest first, of one source and status when given."""
