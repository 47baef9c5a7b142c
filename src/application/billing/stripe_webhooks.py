"""Stripe's webhook as a source of the inbox: how its deliveries are signed and named, and
which events move balances and subscriptions."""

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from application.billing.fulfillment import Fulfillment, SubscriptionChange
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from application.webhooks.sources import DeliveryHeaders, SignedDelivery, WebhookSource
from domain.shared.errors import InvalidValueError
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError

__all__ = ("SIGNATURE_TOLERANCE", "StripeWebhooks", "stripe_signature_matches")

SIGNATURE_TOLERANCE = timedelta(seconds=300)
"""How far a signature's timestamp may be from our clock: older is a replay."""

_CHECKOUT_PAID = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
)


def stripe_signature_matches(secrets: tuple[str, ...], header: str, body: bytes) -> datetime | None:
    """When ``header`` (``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]``) carries a
    signature one of ``secrets`` made over ``<t>.<body>``, its timestamp; else None. Every
    secret and signature is compared in constant time, so the time taken says nothing of
    which matched."""
    stamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            signatures.append(value.lower())
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return None
    signed = stamps[0].encode() + b"." + body
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    return datetime.fromtimestamp(int(stamps[0]), UTC) if matched else None


def _object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def _text(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """An invoice's subscription: under ``parent.subscription_details`` since Stripe's 2025
    API versions, at the top before."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    nested = details.get("subscription") if isinstance(details, dict) else None
    return _text(nested) or _text(invoice.get("subscription"))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Event:
    """What processing reads of a verified event: the object it is about (its id and body),
    when Stripe made the event, and when it is processed."""

    object_id: str
    body: dict[str, Any]
    created: datetime
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StripeWebhooks(WebhookSource):
    """Stripe's webhook endpoint: signed in ``Stripe-Signature`` with one of the endpoint's
    secrets (several while one is rotated), within ``SIGNATURE_TOLERANCE`` of our clock;
    named by the event's id, the same on every retry. Processing re-reads what each event
    names from Stripe before a balance or a subscription moves."""

    secrets: tuple[str, ...]
    clock: Clock
    fulfillment: Fulfillment
    name: str = "stripe"
    max_body_bytes: int = 1024 * 1024

    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        signed_at = stripe_signature_matches(
            self.secrets, headers.get("stripe-signature", ""), body
        )
        if signed_at is None or abs(self.clock.now() - signed_at) > SIGNATURE_TOLERANCE:
            raise WebhookSignatureError
        event = _event(body)
        event_id, kind = _text(event.get("id")), _text(event.get("type"))
        if event_id is None:
            raise InvalidValueError("The Stripe event has no id.", field="id")
        if kind is None:
            raise InvalidValueError("The Stripe event has no type.", field="type")
        return SignedDelivery(delivery_id=event_id, event=kind)

    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        event = _event(delivery.body.encode())
        found = _object(event)
        object_id = _text(found.get("id"))
        if object_id is None:
            return f"ignored: the {delivery.event} event names no object"
        act = self._action(delivery.event)
        if act is None:
            return f"ignored: nothing acts on {delivery.event} events"
        now = self.clock.now()
        created = event.get("created")
        made = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else now
        return await act(uow, _Event(object_id=object_id, body=found, created=made, now=now))

    def _action(self, kind: str) -> Callable[[UnitOfWork, _Event], Awaitable[str]] | None:
        if kind in _CHECKOUT_PAID:
            return self._checkout
        if kind.startswith("customer.subscription."):
            return self._subscription
        actions = {
            "invoice.paid": self._invoice,
            "charge.refunded": self._refunded,
            "charge.dispute.created": self._disputed,
        }
        return actions.get(kind)

    async def _checkout(self, uow: UnitOfWork, event: _Event) -> str:
        return await self.fulfillment.checkout(
            uow, event.object_id, event.now, event_created=event.created
        )

    async def _invoice(self, uow: UnitOfWork, event: _Event) -> str:
        subscription = _invoice_subscription(event.body)
        return await self.fulfillment.invoice(uow, event.object_id, subscription, event.now)

    async def _subscription(self, uow: UnitOfWork, event: _Event) -> str:
        metadata = event.body.get("metadata")
        hint = metadata.get("org_id") if isinstance(metadata, dict) else None
        change = SubscriptionChange(
            subscription_id=event.object_id, event_created=event.created, org_hint=_text(hint)
        )
        return await self.fulfillment.subscription(uow, change)

    async def _refunded(self, uow: UnitOfWork, event: _Event) -> str:
        return await self.fulfillment.refunds(uow, event.object_id, event.now)

    async def _disputed(self, uow: UnitOfWork, event: _Event) -> str:
        charge, amount = _text(event.body.get("charge")), event.body.get("amount")
        if charge is None or not isinstance(amount, int):
            return "ignored: the dispute names no charge or amount"
        return await self.fulfillment.dispute(uow, event.object_id, charge, amount, event.now)


def _event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError:
        raise InvalidValueError("The Stripe event is not JSON.", field="body") from None
    if not isinstance(event, dict):
        raise InvalidValueError("The Stripe event is not a JSON object.", field="body")
    return event
