"""Deliveries of provider webhooks, kept from the moment they are accepted until processed."""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.shared.errors import DomainError, InvalidValueError, NotFoundError
from domain.shared.ids import new_id

__all__ = (
    "DeliveryOutcome",
    "DeliveryStatus",
    "UnknownWebhookSourceError",
    "WebhookDelivery",
    "WebhookDeliveryId",
    "WebhookSignatureError",
    "delivery_key",
)

WebhookDeliveryId = NewType("WebhookDeliveryId", UUID)

MAX_DELIVERY_ID_LENGTH = 200
MAX_EVENT_LENGTH = 100
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


class DeliveryOutcome(StrEnum):
    """What became of a delivery, as counted (a bounded set: the metrics' label)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    """Its signature failed."""
    INVALID = "invalid"
    """Signed, but it did not name itself (no delivery id or event)."""
    PROCESSED = "processed"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"
    """Accepted and recorded; its processing job is queued, running or dead."""
    PROCESSED = "processed"


class WebhookSignatureError(DomainError):
    """The delivery is not signed with a secret we hold: refused without saying more."""

    code = "webhook-signature-invalid"
    default_message = "The delivery's signature is not valid."


class UnknownWebhookSourceError(NotFoundError):
    code = "not-found"
    default_message = "No webhook is configured at this address."


def delivery_key(source: str, delivery_id: str) -> str:
    """The job key of a delivery's processing: one job per delivery, however often it comes."""
    return f"webhook:{source}:{delivery_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One delivery: ``delivery_id`` is the provider's own id for it (GitHub's
    ``X-GitHub-Delivery``), the same on every redelivery; ``body`` is the payload as signed."""

    id_: WebhookDeliveryId
    source: str
    delivery_id: str
    event: str
    body: str
    received_at: datetime
    status: DeliveryStatus = DeliveryStatus.RECEIVED
    outcome: str | None = None
    processed_at: datetime | None = None

    @classmethod
    def receive(
        cls, *, source: str, delivery_id: str, event: str, body: str, now: datetime
    ) -> "WebhookDelivery":
        if len(delivery_id) > MAX_DELIVERY_ID_LENGTH or not _PRINTABLE.fullmatch(delivery_id):
            raise InvalidValueError(
                f"A delivery id is 1 to {MAX_DELIVERY_ID_LENGTH} printable characters.",
                field="delivery",
            )
        if len(event) > MAX_EVENT_LENGTH or not _PRINTABLE.fullmatch(event):
            raise InvalidValueError(
                f"An event name is 1 to {MAX_EVENT_LENGTH} printable characters.", field="event"
            )
        return cls(
            id_=WebhookDeliveryId(new_id()),
            source=source,
            delivery_id=delivery_id,
            event=event,
            body=body,
            received_at=now,
        )

    @property
    def job_key(self) -> str:
        return delivery_key(self.source, self.delivery_id)
