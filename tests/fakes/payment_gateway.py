import secrets
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from application.ports.payment_gateway import (
    CheckoutMode,
    CheckoutSession,
    NewCheckout,
    PaymentGateway,
    PaymentProviderError,
    ProviderCharge,
    ProviderRefund,
    ProviderSubscription,
)

__all__ = ("DECLINED_CARD", "FakePaymentGateway")

DECLINED_CARD = "4000000000000341"


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class FakePaymentGateway(PaymentGateway):
    """A payment provider in memory, with what the loopback Stripe lets a test do besides:
    pay a checkout, refund a charge, change a subscription. A create repeated with its key
    answers the first one again; ``created`` counts what was really made; ``down`` makes
    every call fail as an unreachable provider does."""

    def __init__(self) -> None:
        self.customers: dict[str, Mapping[str, str]] = {}
        self.sessions: dict[str, CheckoutSession] = {}
        self.subscriptions: dict[str, ProviderSubscription] = {}
        self.charges: dict[str, ProviderCharge] = {}
        self.prices: dict[str, tuple[int, str]] = {}
        self.created: list[str] = []
        self.down = False
        self._replies: dict[tuple[str, str], object] = {}
        self._prices_of: dict[str, str | None] = {}
        self.checkout_keys: dict[str, str] = {}
        """The idempotency key each checkout was opened with, by session id."""

    def _check(self) -> None:
        if self.down:
            raise PaymentProviderError

    async def create_customer(self, name: str, metadata: Mapping[str, str], key: str) -> str:
        self._check()
        kept = self._replies.get(("customer", key))
        if isinstance(kept, str):
            return kept
        made = self._replies[("customer", key)] = _id("cus")
        self.customers[made] = dict(metadata)
        self.created.append(made)
        return made

    async def create_checkout(self, checkout: NewCheckout) -> CheckoutSession:
        self._check()
        kept = self._replies.get(("checkout", checkout.idempotency_key))
        if isinstance(kept, CheckoutSession):
            return self.sessions[kept.id_]
        if checkout.customer_id not in self.customers:
            raise PaymentProviderError("no such customer")
        amount, currency = checkout.amount_minor, checkout.currency
        if checkout.mode is CheckoutMode.SUBSCRIPTION:
            if checkout.price_id not in self.prices:
                raise PaymentProviderError("no such price")
            amount, currency = self.prices[checkout.price_id]
        session_id = _id("cs_test")
        session = CheckoutSession(
            id_=session_id,
            mode=checkout.mode,
            status="open",
            payment_status="unpaid",
            url=f"https://checkout.invalid/{session_id}",
            amount_total=amount,
            currency=currency,
            reference=checkout.reference,
            metadata=dict(checkout.metadata),
            customer_id=checkout.customer_id,
        )
        self.sessions[session_id] = session
        self._replies[("checkout", checkout.idempotency_key)] = session
        self._prices_of[session_id] = checkout.price_id
        self.checkout_keys[session_id] = checkout.idempotency_key
        self.created.append(session_id)
        return session

    async def get_checkout(self, session_id: str) -> CheckoutSession | None:
        self._check()
        return self.sessions.get(session_id)

    async def create_portal(self, customer_id: str, return_url: str, key: str) -> str:
        self._check()
        if customer_id not in self.customers:
            raise PaymentProviderError("no such customer")
        return f"https://billing.invalid/{customer_id}"

    async def get_subscription(self, subscription_id: str) -> ProviderSubscription | None:
        self._check()
        return self.subscriptions.get(subscription_id)

    async def get_charge(self, charge_id: str) -> ProviderCharge | None:
        self._check()
        return self.charges.get(charge_id)

    # what a test does at the provider

    def add_price(self, unit_amount: int, currency: str = "usd") -> str:
        price_id = _id("price")
        self.prices[price_id] = (unit_amount, currency)
        return price_id

    def pay(self, session_id: str, card: str = "4242424242424242") -> ProviderCharge:
        """Pay the checkout; a declined card raises and changes nothing."""
        session = self.sessions[session_id]
        if card == DECLINED_CARD:
            raise PaymentProviderError("card declined")
        charge = ProviderCharge(
            id_=_id("ch"),
            customer_id=session.customer_id,
            amount=session.amount_total or 0,
            currency=session.currency or "usd",
        )
        self.charges[charge.id_] = charge
        subscription_id = None
        price_id = self._prices_of.get(session_id)
        if session.mode is CheckoutMode.SUBSCRIPTION:
            subscription_id = _id("sub")
            self.subscriptions[subscription_id] = ProviderSubscription(
                id_=subscription_id,
                customer_id=session.customer_id or "",
                status="active",
                price_id=price_id,
                current_period_end=datetime.now(UTC) + timedelta(days=30),
                cancel_at_period_end=False,
            )
        self.sessions[session_id] = replace(
            session, status="complete", payment_status="paid", subscription_id=subscription_id
        )
        return charge

    def refund(self, charge_id: str, amount: int) -> str:
        charge = self.charges[charge_id]
        refund = ProviderRefund(id_=_id("re"), amount=amount, status="succeeded")
        self.charges[charge_id] = replace(charge, refunds=(*charge.refunds, refund))
        return refund.id_

    def change_subscription(self, subscription_id: str, **changes: object) -> None:
        self.subscriptions[subscription_id] = replace(
            self.subscriptions[subscription_id],
            **changes,  # type: ignore[arg-type]
        )
