"""What the payment provider's word does to balances: each step reads the object again from
the provider, checks it against what we kept, and records its entry keyed by the provider's
id of its cause, so a replayed, duplicated or raced cause moves a balance once. Each returns
its outcome in a few words; its caller commits."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.analytics import ProductAnalytics
from application.billing.policy import BillingPolicy
from application.billing.top_ups import credited
from application.ports.payment_gateway import CheckoutMode, CheckoutSession, PaymentGateway
from application.ports.unit_of_work import UnitOfWork
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.billing.payments import (
    Purchase,
    PurchaseId,
    Subscription,
    micros_of_minor,
    minor_units,
)
from domain.organizations.entities import OrgId

__all__ = (
    "CHECKOUT_SOURCE",
    "DISPUTE_SOURCE",
    "INVOICE_SOURCE",
    "REFUND_SOURCE",
    "Fulfillment",
    "SubscriptionChange",
)

CHECKOUT_SOURCE = "stripe_checkout"
INVOICE_SOURCE = "stripe_invoice"
REFUND_SOURCE = "stripe_refund"
DISPUTE_SOURCE = "stripe_dispute"

_COUNTED_REFUNDS = frozenset({"pending", "succeeded"})


def _purchase_id(reference: str | None) -> PurchaseId | None:
    try:
        return PurchaseId(UUID(reference or ""))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionChange:
    """A subscription event: which subscription, and when the provider made the event."""

    subscription_id: str
    event_created: datetime
    org_hint: str | None = None
    """The ``org_id`` of the subscription's metadata, when it was sent."""


class Fulfillment:
    """Turns verified provider events (and the browser's return from a checkout) into ledger
    entries and subscription state, in the caller's unit of work."""

    def __init__(
        self, gateway: PaymentGateway, policy: BillingPolicy, analytics: ProductAnalytics
    ) -> None:
        self._gateway = gateway
        self._policy = policy
        self._analytics = analytics

    async def checkout(
        self,
        uow: UnitOfWork,
        session_id: str,
        now: datetime,
        *,
        event_created: datetime | None = None,
    ) -> str:
        """Credit a paid checkout of credits once: the session is read again from the
        provider and must be paid, of our purchase, of its organization, amount and currency.
        A subscription checkout only records its subscription (as of ``event_created``)."""
        session = await self._gateway.get_checkout(session_id)
        if session is None:
            return f"ignored: the provider knows no checkout {session_id}"
        if session.mode is CheckoutMode.SUBSCRIPTION:
            return await self._subscribed(uow, session, event_created or now)
        purchase_id = _purchase_id(session.reference)
        purchase = None if purchase_id is None else await uow.billing.purchase(purchase_id)
        if purchase is None:
            return f"ignored: checkout {session.id_} is of no purchase of ours"
        refusal = _refusal(purchase, session)
        if refusal is not None:
            return refusal
        entry = LedgerEntry(
            org_id=purchase.org_id,
            kind=EntryKind.PURCHASE,
            amount_micros=purchase.amount_micros,
            source=CHECKOUT_SOURCE,
            source_id=session.id_,
            created_at=now,
            user_id=purchase.user_id,
            description=f"Credits bought (purchase {purchase.id_})",
        )
        if not await credited(uow, entry):
            return "already credited"
        await uow.billing.mark_paid(purchase.id_, now)
        await self._analytics.credits_purchased(
            uow,
            user_id=purchase.user_id,
            org_id=purchase.org_id,
            amount_micros=purchase.amount_micros,
            currency=purchase.currency,
        )
        return "credited"

    async def _subscribed(
        self, uow: UnitOfWork, session: CheckoutSession, event_created: datetime
    ) -> str:
        if session.subscription_id is None:
            return "ignored: the subscription checkout has no subscription yet"
        change = SubscriptionChange(
            subscription_id=session.subscription_id,
            event_created=event_created,
            org_hint=session.metadata.get("org_id"),
        )
        return await self.subscription(uow, change)

    async def invoice(
        self, uow: UnitOfWork, invoice_id: str, subscription_id: str | None, now: datetime
    ) -> str:
        """Grant the plan's monthly credits for a paid invoice of the plan, once per invoice."""
        grant = self._policy.plan_credits_micros
        if subscription_id is None or grant <= 0:
            return "ignored: no plan credits for this invoice"
        found = await self._gateway.get_subscription(subscription_id)
        if found is None or found.price_id != self._policy.plan_price_id:
            return f"ignored: invoice {invoice_id} is not of the plan"
        org_id = await uow.billing.org_of_customer(found.customer_id)
        if org_id is None:
            return f"ignored: no organization is customer {found.customer_id}"
        entry = LedgerEntry(
            org_id=org_id,
            kind=EntryKind.GRANT,
            amount_micros=grant,
            source=INVOICE_SOURCE,
            source_id=invoice_id,
            created_at=now,
            description=f"Plan credits (invoice {invoice_id})",
        )
        return "granted" if await credited(uow, entry) else "already granted"

    async def subscription(self, uow: UnitOfWork, change: SubscriptionChange) -> str:
        """Keep the subscription as the provider holds it now, unless a newer event was kept
        already: events arriving out of order never roll it back."""
        found = await self._gateway.get_subscription(change.subscription_id)
        if found is None:
            return f"ignored: the provider knows no subscription {change.subscription_id}"
        org_id = await uow.billing.org_of_customer(found.customer_id)
        if org_id is None:
            return f"ignored: no organization is customer {found.customer_id}"
        if change.org_hint not in (None, str(org_id)):
            return f"refused: subscription {found.id_} names another organization"
        kept = await uow.billing.save_subscription(
            Subscription(
                subscription_id=found.id_,
                org_id=org_id,
                customer_id=found.customer_id,
                status=found.status,
                price_id=found.price_id,
                current_period_end=found.current_period_end,
                cancel_at_period_end=found.cancel_at_period_end,
                event_created=change.event_created,
            )
        )
        return f"subscription {found.status}" if kept else "ignored: a newer event was kept"

    async def refunds(self, uow: UnitOfWork, charge_id: str, now: datetime) -> str:
        """Debit every refund of the charge, each once, as the provider lists them now."""
        charge = await self._gateway.get_charge(charge_id)
        if charge is None:
            return f"ignored: the provider knows no charge {charge_id}"
        org_id = await self._org_of(uow, charge.customer_id)
        if org_id is None:
            return f"ignored: charge {charge_id} is of no organization's"
        recorded = 0
        for refund in charge.refunds:
            if refund.status not in _COUNTED_REFUNDS or refund.amount <= 0:
                continue
            entry = LedgerEntry(
                org_id=org_id,
                kind=EntryKind.REFUND,
                amount_micros=-micros_of_minor(refund.amount, charge.currency),
                source=REFUND_SOURCE,
                source_id=refund.id_,
                created_at=now,
                description=f"Refund {refund.id_} of charge {charge_id}",
            )
            recorded += await uow.ledger.record(entry)
        return f"refunds recorded: {recorded}"

    async def dispute(
        self,
        uow: UnitOfWork,
        dispute_id: str,
        charge_id: str,
        amount_minor: int,
        now: datetime,
    ) -> str:
        """Debit a disputed amount once per dispute: the provider holds it back."""
        charge = await self._gateway.get_charge(charge_id)
        if charge is None:
            return f"ignored: the provider knows no charge {charge_id}"
        org_id = await self._org_of(uow, charge.customer_id)
        if org_id is None:
            return f"ignored: charge {charge_id} is of no organization's"
        if not 0 < amount_minor <= charge.amount:
            return f"refused: dispute {dispute_id} is of {amount_minor}, not within the charge"
        entry = LedgerEntry(
            org_id=org_id,
            kind=EntryKind.REFUND,
            amount_micros=-micros_of_minor(amount_minor, charge.currency),
            source=DISPUTE_SOURCE,
            source_id=dispute_id,
            created_at=now,
            description=f"Dispute {dispute_id} of charge {charge_id}",
        )
        return "dispute recorded" if await uow.ledger.record(entry) else "already recorded"

    @staticmethod
    async def _org_of(uow: UnitOfWork, customer_id: str | None) -> OrgId | None:
        return None if customer_id is None else await uow.billing.org_of_customer(customer_id)


def _refusal(purchase: Purchase, session: CheckoutSession) -> str | None:
    """Why the session credits nothing (yet), if it does not."""
    if session.metadata.get("org_id") != str(purchase.org_id):
        return f"refused: checkout {session.id_} names another organization"
    if purchase.checkout_session_id not in (None, session.id_):
        return f"refused: purchase {purchase.id_} opened another checkout"
    if session.payment_status != "paid":
        return f"pending: checkout {session.id_} is {session.payment_status or 'unpaid'}"
    if (session.currency or "").lower() != purchase.currency:
        return f"refused: checkout {session.id_} is in {session.currency}"
    if session.amount_total != minor_units(purchase.amount_micros, purchase.currency):
        return f"refused: checkout {session.id_} is of {session.amount_total}"
    return None
