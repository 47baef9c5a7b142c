"""Billing's use cases and the stripe webhook source over the fakes: checkouts open only for
admins and within bounds, credit only what the provider reports paid, once, whoever fulfills
first; events are verified against every secret within the tolerance; subscriptions never roll
back; invoices, refunds and disputes move balances once per cause."""

import asyncio
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest
import stripe

from application.analytics import ProductAnalytics
from application.billing import (
    RESUME_HELD_JOB,
    BillingPolicy,
    BuyCredits,
    BuyCreditsRequest,
    Fulfillment,
    GetBilling,
    GetBillingRequest,
    OpenBillingPortal,
    OpenBillingPortalRequest,
    ShowPurchase,
    ShowPurchaseRequest,
    StripeWebhooks,
    UnconfiguredPaymentGateway,
    credited,
)
from application.billing.stripe_webhooks import stripe_signature_matches
from application.ports.payment_gateway import CheckoutMode, NewCheckout, PaymentProviderError
from domain.billing.holds import BillingHold
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.billing.payments import (
    BillingNotConfiguredError,
    CreditAmountError,
    NoBillingCustomerError,
    PurchaseId,
    PurchaseNotFoundError,
    PurchaseStatus,
)
from domain.billing.usage import LlmPayer
from domain.conversations.entities import Conversation, ConversationStatus, Tenant
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import AuthMethod, Principal
from domain.organizations.entities import Membership, OrgId, Role
from domain.organizations.errors import NotAnOrgAdminError, OrgNotFoundError
from domain.settings.entities import SettingsValues, UserSettings
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeClock, FakeStore
from tests.fakes.analytics import RecordingAnalytics
from tests.fakes.payment_gateway import FakePaymentGateway
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.stripe_server import signed_event, stripe_signature

SECRET = "whsec_current_secret"
OLD_SECRET = "whsec_rotated_out_secret"
PUBLIC_URL = "https://maestrist.example.com"


@dataclass
class Billing:
    store: FakeStore
    clock: FakeClock
    gateway: FakePaymentGateway
    policy: BillingPolicy
    org_id: OrgId
    owner: Principal
    admin: Principal
    member: Principal
    outsider: Principal
    analytics: RecordingAnalytics = field(default_factory=RecordingAnalytics)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    @property
    def fulfillment(self) -> Fulfillment:
        return Fulfillment(self.gateway, self.policy, ProductAnalytics(self.analytics))

    @property
    def webhooks(self) -> StripeWebhooks:
        return StripeWebhooks(
            secrets=(SECRET, OLD_SECRET), clock=self.clock, fulfillment=self.fulfillment
        )

    def buy(self, uow: FakeUnitOfWork | None = None) -> BuyCredits:
        return BuyCredits(uow or self.uow(), self.clock, self.gateway, self.policy)

    async def balance(self) -> tuple[int, int]:
        ledger = self.uow().ledger
        return await ledger.balance(self.org_id), await ledger.total(self.org_id)

    async def process(self, kind: str, data: dict[str, Any], created: int | None = None) -> str:
        """Verify and process one event as the inbox does: the outcome, committed."""
        made = int(self.clock.now().timestamp()) if created is None else created
        body, headers = signed_event(
            kind, data, secret=SECRET, created=made, signed_at=int(self.clock.now().timestamp())
        )
        signed = self.webhooks.verify({k.lower(): v for k, v in headers.items()}, body)
        delivery = WebhookDelivery.receive(
            source="stripe",
            delivery_id=signed.delivery_id,
            event=signed.event,
            body=body.decode(),
            now=self.clock.now(),
        )
        uow = self.uow()
        outcome = await self.webhooks.process(delivery, uow)
        await uow.commit()
        return outcome


def _principal(store: FakeStore, subject: str, org_id: OrgId | None, role: Role) -> Principal:
    user = create_user(subject)
    store.live.users[user.id_] = user
    if org_id is not None:
        store.live.memberships[(org_id, user.id_)] = Membership(
            org_id=org_id, user_id=user.id_, role=role, joined_at=user.created_at
        )
    return Principal(user=user, method=AuthMethod.SESSION)


def _policy(**changes: Any) -> BillingPolicy:
    policy = BillingPolicy(
        enabled=True,
        currency="usd",
        min_micros=5_000_000,
        max_micros=500_000_000,
        public_url=PUBLIC_URL,
        plan_price_id=None,
        plan_credits_micros=20_000_000,
    )
    return replace(policy, **changes)


@pytest.fixture
def billing() -> Billing:
    store = FakeStore()
    owner_user = create_user("owner")
    org, founder = create_org(owner_user)
    store.live.users[owner_user.id_] = owner_user
    store.live.orgs[org.id_] = org
    store.live.memberships[(org.id_, owner_user.id_)] = founder
    gateway = FakePaymentGateway()
    found = Billing(
        store=store,
        clock=FakeClock(),
        gateway=gateway,
        policy=_policy(plan_price_id=gateway.add_price(1_900)),
        org_id=org.id_,
        owner=Principal(user=owner_user, method=AuthMethod.SESSION),
        admin=_principal(store, "admin", org.id_, Role.ADMIN),
        member=_principal(store, "member", org.id_, Role.MEMBER),
        outsider=_principal(store, "outsider", None, Role.MEMBER),
    )
    store.commit()
    return found


async def _bought(billing: Billing, amount: str = "25.00") -> tuple[PurchaseId, str]:
    bought = await billing.buy().execute(
        BuyCreditsRequest(actor=billing.admin, org_id=billing.org_id, amount=Decimal(amount))
    )
    session_id = bought.purchase.checkout_session_id
    assert session_id is not None
    return bought.purchase.id_, session_id


async def test_buying_credits_opens_a_checkout_named_by_the_kept_purchase_and_credits_nothing(
    billing: Billing,
) -> None:
    purchase_id, session_id = await _bought(billing, "25.5")

    kept = billing.store.committed.purchases[purchase_id]
    assert (kept.status, kept.amount_micros, kept.currency) == (
        PurchaseStatus.PENDING,
        25_500_000,
        "usd",
    )
    assert kept.checkout_session_id == session_id
    session = billing.gateway.sessions[session_id]
    assert session.reference == str(purchase_id)
    assert session.metadata == {"org_id": str(billing.org_id), "purchase_id": str(purchase_id)}
    assert (session.amount_total, session.currency) == (2_550, "usd")
    assert session.customer_id == billing.store.committed.billing_customers[billing.org_id]
    assert billing.gateway.checkout_keys[session_id] == str(purchase_id)
    assert session.url is not None
    assert await billing.balance() == (0, 0)


async def test_a_second_purchase_reuses_the_organization_customer(billing: Billing) -> None:
    await _bought(billing)
    await _bought(billing)
    assert len(billing.gateway.customers) == 1


async def test_a_checkout_the_provider_would_not_open_leaves_its_purchase_failed(
    billing: Billing,
) -> None:
    first, _ = await _bought(billing)  # the organization has its customer
    billing.gateway.down = True
    with pytest.raises(PaymentProviderError):
        await _bought(billing)
    (failed,) = [p for p in billing.store.committed.purchases.values() if p.id_ != first]
    assert (failed.status, failed.checkout_session_id) == (PurchaseStatus.FAILED, None)
    assert billing.store.committed.purchases[first].status is PurchaseStatus.PENDING
    billing.gateway.down = False
    again, _ = await _bought(billing)  # buying again is a new purchase
    assert billing.store.committed.purchases[again].status is PurchaseStatus.PENDING


@pytest.mark.parametrize("amount", ["4.99", "500.01", "-5", "NaN", "Infinity", "1e999"])
async def test_an_amount_outside_the_bounds_is_refused_and_nothing_kept(
    billing: Billing, amount: str
) -> None:
    with pytest.raises(CreditAmountError):
        await _bought(billing, amount)
    assert billing.store.committed.purchases == {}
    assert billing.gateway.sessions == {}


async def test_an_amount_finer_than_a_cent_is_refused(billing: Billing) -> None:
    with pytest.raises(InvalidValueError, match="at most 2 decimals"):
        await _bought(billing, "10.005")
    assert billing.store.committed.purchases == {}


async def test_only_owners_and_admins_buy_and_others_learn_nothing(billing: Billing) -> None:
    await billing.buy().execute(
        BuyCreditsRequest(actor=billing.owner, org_id=billing.org_id, amount=Decimal(10))
    )
    with pytest.raises(NotAnOrgAdminError):
        await billing.buy().execute(
            BuyCreditsRequest(actor=billing.member, org_id=billing.org_id, amount=Decimal(10))
        )
    with pytest.raises(OrgNotFoundError):
        await billing.buy().execute(
            BuyCreditsRequest(actor=billing.outsider, org_id=billing.org_id, amount=Decimal(10))
        )
    assert len(billing.store.committed.purchases) == 1


async def test_with_billing_off_nothing_is_sold_but_the_balance_reads(billing: Billing) -> None:
    off = replace(billing.policy, enabled=False)
    use_case = BuyCredits(billing.uow(), billing.clock, UnconfiguredPaymentGateway(), off)
    with pytest.raises(BillingNotConfiguredError):
        await use_case.execute(
            BuyCreditsRequest(actor=billing.owner, org_id=billing.org_id, amount=Decimal(10))
        )
    portal = OpenBillingPortal(billing.uow(), billing.clock, UnconfiguredPaymentGateway(), off)
    with pytest.raises(BillingNotConfiguredError):
        await portal.execute(OpenBillingPortalRequest(actor=billing.owner, org_id=billing.org_id))
    read = await GetBilling(billing.uow(), off).execute(
        GetBillingRequest(actor=billing.owner, org_id=billing.org_id)
    )
    assert (read.balance_micros, read.billing_enabled) == (0, False)
    assert billing.store.committed.purchases == {}


async def test_the_portal_needs_a_customer_first(billing: Billing) -> None:
    portal = OpenBillingPortal(billing.uow(), billing.clock, billing.gateway, billing.policy)
    request = OpenBillingPortalRequest(actor=billing.admin, org_id=billing.org_id)
    with pytest.raises(NoBillingCustomerError):
        await portal.execute(request)
    await _bought(billing)
    assert (await portal.execute(request)).startswith("https://")


async def test_a_paid_checkout_is_credited_once_however_often_its_event_comes(
    billing: Billing,
) -> None:
    purchase_id, session_id = await _bought(billing)
    completed = {"id": session_id, "object": "checkout.session"}

    assert (await billing.process("checkout.session.completed", completed)).startswith("pending")
    assert await billing.balance() == (0, 0)

    billing.gateway.pay(session_id)
    outcomes = [
        await billing.process("checkout.session.completed", completed),
        await billing.process("checkout.session.async_payment_succeeded", completed),
        await billing.process("checkout.session.completed", completed),
    ]

    assert outcomes == ["credited", "already credited", "already credited"]
    assert await billing.balance() == (25_000_000, 25_000_000)
    purchase = billing.store.committed.purchases[purchase_id]
    assert (purchase.status, purchase.paid_at) == (PurchaseStatus.PAID, billing.clock.now())
    [entry] = billing.store.committed.ledger.values()
    assert (entry.kind, entry.source, entry.source_id, entry.user_id) == (
        EntryKind.PURCHASE,
        "stripe_checkout",
        session_id,
        billing.admin.user.id_,
    )


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ({"amount_total": 100}, "is of 100"),
        ({"currency": "eur"}, "is in eur"),
        ({"metadata": {"org_id": "someone-else"}}, "names another organization"),
        ({"reference": "not-a-purchase"}, "no purchase of ours"),
    ],
)
async def test_a_paid_checkout_that_is_not_what_was_bought_credits_nothing(
    billing: Billing, tamper: dict[str, Any], words: str
) -> None:
    _, session_id = await _bought(billing)
    billing.gateway.pay(session_id)
    session = billing.gateway.sessions[session_id]
    billing.gateway.sessions[session_id] = replace(session, **tamper)

    outcome = await billing.process("checkout.session.completed", {"id": session_id})

    assert words in outcome
    assert await billing.balance() == (0, 0)


async def test_the_event_body_is_not_believed_the_session_is_read_again(
    billing: Billing,
) -> None:
    _, session_id = await _bought(billing)
    claimed = {"id": session_id, "payment_status": "paid", "status": "complete"}
    assert "pending" in await billing.process("checkout.session.completed", claimed)
    assert await billing.balance() == (0, 0)


async def test_the_return_page_and_the_webhook_racing_credit_once(billing: Billing) -> None:
    purchase_id, session_id = await _bought(billing)
    billing.gateway.pay(session_id)

    async def returned() -> PurchaseStatus:
        shown = await ShowPurchase(
            billing.uow(), billing.clock, billing.fulfillment, billing.policy
        ).execute(
            ShowPurchaseRequest(actor=billing.owner, org_id=billing.org_id, purchase_id=purchase_id)
        )
        return shown.status

    async def webhook() -> str:
        return await billing.process("checkout.session.completed", {"id": session_id})

    results = await asyncio.gather(returned(), webhook(), returned(), webhook())

    assert results[0] == results[2] == PurchaseStatus.PAID
    assert sorted([results[1], results[3]]) in (
        ["already credited", "already credited"],
        ["already credited", "credited"],
    )
    assert await billing.balance() == (25_000_000, 25_000_000)
    assert len(billing.store.committed.ledger) == 1


async def test_the_return_page_of_an_unpaid_checkout_credits_nothing(billing: Billing) -> None:
    purchase_id, _ = await _bought(billing)
    shown = await ShowPurchase(
        billing.uow(), billing.clock, billing.fulfillment, billing.policy
    ).execute(
        ShowPurchaseRequest(actor=billing.admin, org_id=billing.org_id, purchase_id=purchase_id)
    )
    assert shown.status is PurchaseStatus.PENDING
    assert await billing.balance() == (0, 0)


async def test_another_organizations_purchase_is_not_found(billing: Billing) -> None:
    purchase_id, _ = await _bought(billing)
    other_owner = create_user("other-owner")
    other, founder = create_org(other_owner)
    billing.store.live.users[other_owner.id_] = other_owner
    billing.store.live.orgs[other.id_] = other
    billing.store.live.memberships[(other.id_, other_owner.id_)] = founder
    billing.store.commit()
    show = ShowPurchase(billing.uow(), billing.clock, billing.fulfillment, billing.policy)
    with pytest.raises(PurchaseNotFoundError):
        await show.execute(
            ShowPurchaseRequest(
                actor=Principal(user=other_owner, method=AuthMethod.SESSION),
                org_id=other.id_,
                purchase_id=purchase_id,
            )
        )


async def _subscribed(billing: Billing) -> str:
    """A paid subscription checkout of the plan: the subscription's id."""
    uow = billing.uow()
    customer = await uow.billing.keep_customer(
        billing.org_id, await billing.gateway.create_customer("x", {}, key="c")
    )
    await uow.commit()
    assert billing.policy.plan_price_id is not None
    session = await billing.gateway.create_checkout(
        NewCheckout(
            mode=CheckoutMode.SUBSCRIPTION,
            customer_id=customer,
            reference=str(billing.org_id),
            metadata={"org_id": str(billing.org_id)},
            success_url=PUBLIC_URL,
            cancel_url=PUBLIC_URL,
            idempotency_key="s",
            price_id=billing.policy.plan_price_id,
        )
    )
    billing.gateway.pay(session.id_)
    outcome = await billing.process("checkout.session.completed", {"id": session.id_})
    assert outcome == "subscription active"
    subscription_id = billing.gateway.sessions[session.id_].subscription_id
    assert subscription_id is not None
    return subscription_id


async def test_subscription_events_out_of_order_never_roll_the_subscription_back(
    billing: Billing,
) -> None:
    subscription_id = await _subscribed(billing)
    now = int(billing.clock.now().timestamp())
    billing.gateway.change_subscription(subscription_id, status="canceled")
    deleted = {"id": subscription_id, "object": "subscription", "status": "canceled"}
    assert (
        await billing.process("customer.subscription.deleted", deleted, created=now + 60)
        == "subscription canceled"
    )

    # An older event, processed late, while the provider (a lagging read) still says active:
    billing.gateway.change_subscription(subscription_id, status="active")
    updated = {"id": subscription_id, "object": "subscription", "status": "active"}
    outcome = await billing.process("customer.subscription.updated", updated, created=now + 30)

    assert outcome == "ignored: a newer event was kept"
    kept = billing.store.committed.subscriptions[subscription_id]
    assert kept.status == "canceled"
    assert int(kept.event_created.timestamp()) == now + 60


async def test_each_paid_invoice_of_the_plan_grants_its_credits_once(billing: Billing) -> None:
    subscription_id = await _subscribed(billing)
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "status": "paid",
        "parent": {"subscription_details": {"subscription": subscription_id}},
    }
    older_api = {"id": "in_2", "object": "invoice", "subscription": subscription_id}

    assert await billing.process("invoice.paid", invoice) == "granted"
    assert await billing.process("invoice.paid", invoice) == "already granted"
    assert await billing.process("invoice.paid", older_api) == "granted"
    assert await billing.balance() == (40_000_000, 40_000_000)
    assert {e.kind for e in billing.store.committed.ledger.values()} == {EntryKind.GRANT}


async def test_an_invoice_of_another_price_grants_nothing(billing: Billing) -> None:
    subscription_id = await _subscribed(billing)
    billing.gateway.change_subscription(subscription_id, price_id="price_other")
    invoice = {"id": "in_1", "subscription": subscription_id}
    assert "not of the plan" in await billing.process("invoice.paid", invoice)
    assert await billing.balance() == (0, 0)


async def test_refunds_and_disputes_debit_once_each(billing: Billing) -> None:
    _, session_id = await _bought(billing)
    charge = billing.gateway.pay(session_id)
    await billing.process("checkout.session.completed", {"id": session_id})
    billing.gateway.refund(charge.id_, 500)
    refunded = {"id": charge.id_, "object": "charge"}

    assert await billing.process("charge.refunded", refunded) == "refunds recorded: 1"
    billing.gateway.refund(charge.id_, 250)
    assert await billing.process("charge.refunded", refunded) == "refunds recorded: 1"
    assert await billing.process("charge.refunded", refunded) == "refunds recorded: 0"
    dispute = {"id": "dp_1", "object": "dispute", "charge": charge.id_, "amount": 1_000}
    assert await billing.process("charge.dispute.created", dispute) == "dispute recorded"
    assert await billing.process("charge.dispute.created", dispute) == "already recorded"
    too_much = {"id": "dp_2", "charge": charge.id_, "amount": 9_999}
    assert "refused" in await billing.process("charge.dispute.created", too_much)

    assert await billing.balance() == (25_000_000 - 17_500_000,) * 2
    kinds = sorted(e.kind for e in billing.store.committed.ledger.values())
    assert kinds == [EntryKind.PURCHASE, EntryKind.REFUND, EntryKind.REFUND, EntryKind.REFUND]


async def test_an_event_nothing_acts_on_is_acknowledged(billing: Billing) -> None:
    outcome = await billing.process("customer.created", {"id": "cus_1"})
    assert outcome == "ignored: nothing acts on customer.created events"


async def test_credit_takes_positive_entries_only(billing: Billing) -> None:
    debit = LedgerEntry(
        org_id=billing.org_id,
        kind=EntryKind.USAGE,
        amount_micros=-5,
        source="test",
        source_id="u",
        created_at=billing.clock.now(),
    )
    with pytest.raises(ValueError, match="positive"):
        await credited(billing.uow(), debit)


# --- signatures ------------------------------------------------------------------------------


def _headers(body: bytes, secret: str, stamp: int) -> dict[str, str]:
    return {"stripe-signature": stripe_signature(body, secret, stamp)}


@pytest.fixture
def source(billing: Billing) -> StripeWebhooks:
    return billing.webhooks


def _body() -> bytes:
    return json.dumps({"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}}).encode()


@pytest.mark.parametrize("secret", [SECRET, OLD_SECRET])
def test_a_delivery_signed_with_any_configured_secret_names_its_event(
    billing: Billing, source: StripeWebhooks, secret: str
) -> None:
    now = int(billing.clock.now().timestamp())
    signed = source.verify(_headers(_body(), secret, now), _body())
    assert (signed.delivery_id, signed.event) == ("evt_1", "invoice.paid")


@pytest.mark.parametrize("skew", [-300, 300])
def test_a_signature_within_the_tolerance_passes(
    billing: Billing, source: StripeWebhooks, skew: int
) -> None:
    now = int(billing.clock.now().timestamp())
    source.verify(_headers(_body(), SECRET, now + skew), _body())


@pytest.mark.parametrize(
    "forge",
    ["other-secret", "tampered", "stale", "future", "no-header", "no-timestamp", "v0-only"],
)
def test_a_forged_or_stale_signature_is_refused(
    billing: Billing, source: StripeWebhooks, forge: str
) -> None:
    now = int(billing.clock.now().timestamp())
    body = _body()
    headers = _headers(body, SECRET, now)
    if forge == "other-secret":
        headers = _headers(body, "whsec_not_ours", now)
    elif forge == "tampered":
        body = body.replace(b"evt_1", b"evt_2")
    elif forge == "stale":
        headers = _headers(body, SECRET, now - 301)
    elif forge == "future":
        headers = _headers(body, SECRET, now + 301)
    elif forge == "no-header":
        headers = {}
    elif forge == "no-timestamp":
        headers = {"stripe-signature": headers["stripe-signature"].split(",", 1)[1]}
    else:
        headers = {"stripe-signature": headers["stripe-signature"].replace("v1=", "v0=")}
    with pytest.raises(WebhookSignatureError):
        source.verify(headers, body)


def test_one_matching_signature_among_several_passes(
    billing: Billing, source: StripeWebhooks
) -> None:
    now = int(billing.clock.now().timestamp())
    ours = stripe_signature(_body(), SECRET, now).split(",")[1]
    header = f"t={now},v1={'0' * 64},{ours}"
    source.verify({"stripe-signature": header}, _body())


def test_our_check_agrees_with_stripes_own() -> None:
    """Signatures our check accepts, the SDK's accepts, and the other way round."""
    body = _body()
    header = stripe_signature(body, SECRET, 1_700_000_000)
    assert stripe_signature_matches((SECRET,), header, body) is not None
    assert stripe.WebhookSignature.verify_header(body.decode(), header, SECRET, tolerance=None)
    forged = stripe_signature(body, "whsec_other", 1_700_000_000)
    assert stripe_signature_matches((SECRET,), forged, body) is None
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), forged, SECRET, tolerance=None)


def test_a_signed_event_without_its_id_or_type_is_refused_by_name(
    billing: Billing, source: StripeWebhooks
) -> None:
    now = int(billing.clock.now().timestamp())
    for missing, body in (("id", b'{"type": "x"}'), ("type", b'{"id": "evt_1"}')):
        with pytest.raises(InvalidValueError) as raised:
            source.verify(_headers(body, SECRET, now), body)
        assert raised.value.field == missing


async def test_a_credited_purchase_is_reported_once_and_resumes_what_ran_out_of_money(
    billing: Billing,
) -> None:
    """With the buyer's consent, ``credits_purchased`` is reported once however often the
    checkout is fulfilled; the credit enqueues the resumption of the organization's
    conversations paused because its balance ran out, in the transaction that credits it."""
    buyer = billing.admin.user.id_
    billing.store.live.user_settings[buyer] = UserSettings(
        user_id=buyer, values=SettingsValues(analytics_consent=True), updated_at=T0
    )
    held = Conversation(
        id_=ConversationId(new_id()),
        tenant=Tenant(billing.org_id, billing.member.user.id_),
        status=ConversationStatus.PAUSED,
        billing_hold=BillingHold.FUNDS,
        llm_payer=LlmPayer.ORG,
        created_at=T0,
        updated_at=T0,
    )
    billing.store.live.conversations[held.id_] = held
    billing.store.commit()
    _, session_id = await _bought(billing)
    billing.gateway.pay(session_id)
    completed = {"id": session_id, "object": "checkout.session"}
    for _ in range(3):
        await billing.process("checkout.session.completed", completed)

    [reported] = billing.analytics.events
    assert (reported.user_id, reported.event.value) == (buyer, "credits_purchased")
    assert reported.properties["amount_micros"] == 25_000_000
    [job] = [j for j in billing.store.committed.jobs.values() if j.kind == RESUME_HELD_JOB]
    assert job.payload == {"conversationId": str(held.id_)}
