from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from application.billing import BuyCreditsResult, GetBillingResult
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.billing.payments import Purchase, PurchaseStatus, Subscription

__all__ = (
    "BillingOut",
    "CheckoutOut",
    "CreditPurchase",
    "LedgerEntryOut",
    "PortalOut",
    "PurchaseOut",
    "SubscriptionOut",
)


class CreditPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Annotated[
        Decimal,
        msgspec.Meta(
            description="Credits to buy, in units of the server's currency (a number or a "
            "decimal string, at most two decimals).",
            examples=["25.00"],
        ),
    ]


class PurchaseOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    status: PurchaseStatus
    amount_micros: int
    currency: str
    checkout_session_id: str | None
    created_at: datetime
    paid_at: datetime | None

    @classmethod
    def from_entity(cls, purchase: Purchase) -> "PurchaseOut":
        return cls(
            id=purchase.id_,
            status=purchase.status,
            amount_micros=purchase.amount_micros,
            currency=purchase.currency,
            checkout_session_id=purchase.checkout_session_id,
            created_at=purchase.created_at,
            paid_at=purchase.paid_at,
        )


class CheckoutOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    checkout_url: str
    purchase: PurchaseOut | None = None

    @classmethod
    def of_purchase(cls, result: BuyCreditsResult) -> "CheckoutOut":
        return cls(
            checkout_url=result.checkout_url, purchase=PurchaseOut.from_entity(result.purchase)
        )


class PortalOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    url: str


class SubscriptionOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    status: str
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool

    @classmethod
    def from_entity(cls, subscription: Subscription) -> "SubscriptionOut":
        return cls(
            id=subscription.subscription_id,
            status=subscription.status,
            price_id=subscription.price_id,
            current_period_end=subscription.current_period_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
        )


class LedgerEntryOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    kind: EntryKind
    amount_micros: int
    source: str
    source_id: str
    created_at: datetime
    description: str
    user_id: UUID | None
    conversation_id: UUID | None
    model: str | None

    @classmethod
    def from_entity(cls, entry: LedgerEntry) -> "LedgerEntryOut":
        return cls(
            id=entry.id_,
            kind=entry.kind,
            amount_micros=entry.amount_micros,
            source=entry.source,
            source_id=entry.source_id,
            created_at=entry.created_at,
            description=entry.description,
            user_id=entry.user_id,
            conversation_id=entry.conversation_id,
            model=entry.model,
        )


class BillingOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    balance_micros: int
    """The balance in millionths of ``currency``."""
    currency: str
    billing_enabled: bool
    subscription: SubscriptionOut | None
    entries: list[LedgerEntryOut]

    @classmethod
    def from_result(cls, result: GetBillingResult) -> "BillingOut":
        return cls(
            balance_micros=result.balance_micros,
            currency=result.currency,
            billing_enabled=result.billing_enabled,
            subscription=None
            if result.subscription is None
            else SubscriptionOut.from_entity(result.subscription),
            entries=[LedgerEntryOut.from_entity(entry) for entry in result.entries],
        )
