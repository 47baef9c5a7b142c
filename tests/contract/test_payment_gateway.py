"""The payment gateway, on the fake and on the Stripe adapter against the loopback Stripe
alike: creates are idempotent by their key, checkouts and subscriptions read back as paid once
paid, refunds show on their charge, what the provider does not know is None, and a provider
out of reach is ``PaymentProviderError``."""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.stripe import StripePaymentGateway
from application.ports.payment_gateway import (
    CheckoutMode,
    NewCheckout,
    PaymentGateway,
    PaymentProviderError,
)
from tests.fakes.payment_gateway import DECLINED_CARD, FakePaymentGateway
from tests.support.ports import closed_port
from tests.support.stripe_server import StripeStandIn, running_stripe


@dataclass(frozen=True, slots=True)
class Provider:
    """A gateway, and what a test does at its provider (the browser paying, the dashboard)."""

    gateway: PaymentGateway
    pay: Callable[[str, str], Awaitable[str]]
    """Pays the checkout with the card; the charge's id. A declined card raises."""
    refund: Callable[[str, int], Awaitable[str]]
    add_price: Callable[[int], Awaitable[str]]


@pytest.fixture(scope="module")
def stripe_stand_in() -> Iterator[StripeStandIn]:
    with running_stripe() as stand_in:
        yield stand_in


def _fake() -> Provider:
    fake = FakePaymentGateway()

    async def pay(session_id: str, card: str) -> str:
        return fake.pay(session_id, card).id_

    async def refund(charge_id: str, amount: int) -> str:
        return fake.refund(charge_id, amount)

    async def add_price(amount: int) -> str:
        return fake.add_price(amount)

    return Provider(fake, pay, refund, add_price)


@pytest.fixture(params=["fake", "stripe"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Provider]:
    if request.param == "fake":
        yield _fake()
        return
    stand_in: StripeStandIn = request.getfixturevalue("stripe_stand_in")
    gateway = StripePaymentGateway(stand_in.api_key, api_base=stand_in.url)

    async def pay(session_id: str, card: str) -> str:
        paid = await stand_in.pay(session_id, card, deliver=False)
        return str(paid["charge"])

    try:
        yield Provider(gateway, pay, stand_in.refund, stand_in.create_price)
    finally:
        await gateway.close()


def _checkout(customer: str, key: str, **changes: Any) -> NewCheckout:
    fields: dict[str, Any] = {
        "mode": CheckoutMode.PAYMENT,
        "customer_id": customer,
        "reference": "0193b5a0-0000-7000-8000-000000000001",
        "metadata": {"org_id": "org-1", "purchase_id": "p-1"},
        "success_url": "https://maestrist.example.com/back?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://maestrist.example.com/back",
        "idempotency_key": key,
        "amount_minor": 2_500,
        "currency": "usd",
        "description": "Credits",
    }
    return NewCheckout(**(fields | changes))


async def _customer(provider: Provider, key: str) -> str:
    return await provider.gateway.create_customer("Zoë's team", {"org_id": "org-1"}, key=key)


async def test_a_create_sent_again_with_its_key_makes_nothing_new(provider: Provider) -> None:
    key = f"customer-{secrets.token_hex(6)}"
    first, again = await _customer(provider, key), await _customer(provider, key)
    other = await _customer(provider, key + "-other")
    assert first == again != other

    checkout = _checkout(first, f"purchase-{first}")
    opened = await provider.gateway.create_checkout(checkout)
    reopened = await provider.gateway.create_checkout(checkout)
    assert reopened.id_ == opened.id_


async def test_a_checkout_reads_back_unpaid_then_paid_with_what_it_was_opened_with(
    provider: Provider,
) -> None:
    customer = await _customer(provider, f"c-{secrets.token_hex(6)}")
    opened = await provider.gateway.create_checkout(_checkout(customer, f"k-{customer}"))
    assert (opened.mode, opened.status, opened.payment_status) == (
        CheckoutMode.PAYMENT,
        "open",
        "unpaid",
    )
    assert opened.url is not None
    assert (opened.amount_total, opened.currency) == (2_500, "usd")
    assert opened.reference == "0193b5a0-0000-7000-8000-000000000001"
    assert opened.metadata == {"org_id": "org-1", "purchase_id": "p-1"}
    assert opened.customer_id == customer

    charge_id = await provider.pay(opened.id_, "4242424242424242")

    paid = await provider.gateway.get_checkout(opened.id_)
    assert paid is not None
    assert (paid.status, paid.payment_status, paid.amount_total) == ("complete", "paid", 2_500)
    assert paid.metadata == opened.metadata
    charge = await provider.gateway.get_charge(charge_id)
    assert charge is not None
    assert (charge.customer_id, charge.amount, charge.currency, charge.refunds) == (
        customer,
        2_500,
        "usd",
        (),
    )


async def test_a_declined_card_leaves_the_checkout_unpaid(provider: Provider) -> None:
    customer = await _customer(provider, f"d-{secrets.token_hex(6)}")
    opened = await provider.gateway.create_checkout(_checkout(customer, f"k-{customer}"))
    with pytest.raises(Exception):  # noqa: B017 - each provider refuses in its own way
        await provider.pay(opened.id_, DECLINED_CARD)
    found = await provider.gateway.get_checkout(opened.id_)
    assert found is not None
    assert found.payment_status == "unpaid"


async def test_refunds_show_on_their_charge(provider: Provider) -> None:
    customer = await _customer(provider, f"r-{secrets.token_hex(6)}")
    opened = await provider.gateway.create_checkout(_checkout(customer, f"k-{customer}"))
    charge_id = await provider.pay(opened.id_, "4242424242424242")
    first = await provider.refund(charge_id, 500)
    second = await provider.refund(charge_id, 700)

    charge = await provider.gateway.get_charge(charge_id)
    assert charge is not None
    assert {(r.id_, r.amount, r.status) for r in charge.refunds} == {
        (first, 500, "succeeded"),
        (second, 700, "succeeded"),
    }


async def test_a_paid_subscription_checkout_makes_an_active_subscription_of_its_price(
    provider: Provider,
) -> None:
    customer = await _customer(provider, f"s-{secrets.token_hex(6)}")
    price = await provider.add_price(1_900)
    opened = await provider.gateway.create_checkout(
        _checkout(
            customer,
            f"sub-{customer}",
            mode=CheckoutMode.SUBSCRIPTION,
            amount_minor=None,
            currency=None,
            price_id=price,
        )
    )
    assert opened.subscription_id is None
    await provider.pay(opened.id_, "4242424242424242")

    paid = await provider.gateway.get_checkout(opened.id_)
    assert paid is not None
    assert paid.mode is CheckoutMode.SUBSCRIPTION
    assert paid.subscription_id is not None
    subscription = await provider.gateway.get_subscription(paid.subscription_id)
    assert subscription is not None
    assert (subscription.customer_id, subscription.status, subscription.price_id) == (
        customer,
        "active",
        price,
    )
    assert subscription.current_period_end is not None
    assert subscription.cancel_at_period_end is False


async def test_the_portal_opens_for_a_customer(provider: Provider) -> None:
    customer = await _customer(provider, f"p-{secrets.token_hex(6)}")
    url = await provider.gateway.create_portal(customer, "https://x.example/back", key="p")
    assert url.startswith(("http://", "https://"))


async def test_what_the_provider_does_not_know_is_none(provider: Provider) -> None:
    assert await provider.gateway.get_checkout("cs_test_unknown") is None
    assert await provider.gateway.get_subscription("sub_unknown") is None
    assert await provider.gateway.get_charge("ch_unknown") is None


async def test_a_checkout_for_an_unknown_customer_is_a_provider_error(
    provider: Provider,
) -> None:
    with pytest.raises(PaymentProviderError):
        await provider.gateway.create_checkout(_checkout("cus_unknown", "k-unknown"))


async def test_a_provider_out_of_reach_is_a_provider_error() -> None:
    gateway = StripePaymentGateway("sk_test_x", api_base=f"http://127.0.0.1:{closed_port()}")
    try:
        with pytest.raises(PaymentProviderError):
            await gateway.get_checkout("cs_test_x")
        with pytest.raises(PaymentProviderError):
            await gateway.create_customer("x", {}, key="k")
    finally:
        await gateway.close()
