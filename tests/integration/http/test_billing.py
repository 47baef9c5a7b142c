"""Billing over HTTP on PostgreSQL with the server's own job workers, against the loopback
Stripe: an admin buys credits through Checkout, the stand-in "pays" and posts the signed event
to the webhook, and the balance rises once, whatever is replayed, raced or forged; refunds and
disputes debit once; subscription events out of order never roll the plan back; only owners and
admins buy, and another organization's purchase is not found."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4

import httpx
import pytest
from dishka import Provider, Scope, provide

from application.billing import Fulfillment
from application.ports.ledger import Ledger
from application.ports.unit_of_work import UnitOfWork
from domain.billing.ledger import LedgerEntry
from domain.webhooks.entities import DeliveryStatus, WebhookDelivery
from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user, sqla_ports
from tests.integration.http.conftest import BearerSubjectAuth, bearer
from tests.support.concurrent_app import serve_concurrently
from tests.support.polling import GENEROUS_S
from tests.support.ports import closed_port
from tests.support.stripe_server import (
    DECLINED_CARD,
    STRIPE_WEBHOOK_SECRET,
    StripeRefusedError,
    StripeStandIn,
    running_stripe,
    signed_event,
    webhook_relay,
)

pytestmark = pytest.mark.postgres

PUBLIC_URL = "https://maestrist.example.com"
PLAN_CENTS = 1_900


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StripeStandIn]:
    with running_stripe() as running:
        yield running


@dataclass
class Shop:
    client: httpx.AsyncClient
    stand_in: StripeStandIn
    postgres_url: str
    plan_price: str

    async def team(self, owner: str, *members: tuple[str, str]) -> str:
        """A new organization of ``owner`` (a new user), with ``(subject, role)`` members."""
        await add_user(self.postgres_url, owner)
        created = await self.client.post(
            "/api/orgs", json={"name": f"Team of {owner}"}, headers=bearer(owner)
        )
        assert created.status_code == 201, created.text
        org_id: str = created.json()["id"]
        for subject, role in members:
            user = await add_user(self.postgres_url, subject)
            added = await self.client.post(
                f"/api/orgs/{org_id}/members",
                json={"email": user.email.value, "role": role},
                headers=bearer(owner),
            )
            assert added.status_code == 201, added.text
        return org_id

    async def checkout(self, subject: str, org_id: str, amount: object = "25.00") -> Any:
        return await self.client.post(
            f"/api/orgs/{org_id}/billing/checkout", json={"amount": amount}, headers=bearer(subject)
        )

    async def bought(self, subject: str, org_id: str, amount: str = "25.00") -> dict[str, Any]:
        response = await self.checkout(subject, org_id, amount)
        assert response.status_code == 201, response.text
        bought: dict[str, Any] = response.json()
        return bought

    async def billing(self, subject: str, org_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/orgs/{org_id}/billing", headers=bearer(subject))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def deliver(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post("/api/webhooks/stripe", content=body, headers=headers)

    async def deliveries(self) -> list[WebhookDelivery]:
        async with sqla_ports(self.postgres_url) as open_ports, open_ports() as ports:
            return await ports.uow.webhooks.list(source="stripe")

    async def settled(self, count: int) -> list[WebhookDelivery]:
        """Once ``count`` stripe deliveries are kept and every one is processed: them."""
        try:
            async with asyncio.timeout(GENEROUS_S):
                while True:
                    found = await self.deliveries()
                    done = {d.status for d in found} == {DeliveryStatus.PROCESSED}
                    if len(found) >= count and done:
                        return found
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"{count} stripe deliveries were never all processed") from None

    async def outcome_of(self, event_id: str) -> str | None:
        found = [d for d in await self.deliveries() if d.delivery_id == event_id]
        return found[0].outcome if found else None


def _settings(postgres_url: str, stand_in: StripeStandIn, plan_price: str) -> Settings:
    settings = clustered_settings(postgres_url)
    return settings.with_changes(
        server=settings.server.with_changes(public_url=PUBLIC_URL),
        jobs=settings.jobs.with_changes(in_serve=True, poll_interval_s=0.05),
        billing=settings.billing.with_changes(
            stripe_secret_key=stand_in.api_key,
            stripe_webhook_secrets=("whsec_being_rotated_out", STRIPE_WEBHOOK_SECRET),
            stripe_api_base=stand_in.url,
            plan_price_id=plan_price,
            plan_monthly_credits=Decimal(20),
        ),
    )


@asynccontextmanager
async def _open(
    postgres_url: str, stand_in: StripeStandIn, *providers: Provider
) -> AsyncIterator[Shop]:
    """The server on the test's own loop (requests sent together overlap), its webhook
    registered with the stand-in through a relay; opened in the test's own task, which
    the server's lifespan must be closed in too."""
    price = await stand_in.create_price(PLAN_CENTS)
    settings = _settings(postgres_url, stand_in, price)
    async with (
        serve_concurrently(settings, BearerSubjectAuth(), *providers) as client,
        webhook_relay(client) as hook_url,
    ):
        await stand_in.register_webhook(hook_url)
        yield Shop(client, stand_in, postgres_url, price)


def _event_id(delivery: tuple[bytes, dict[str, str]]) -> str:
    event_id: str = json.loads(delivery[0])["id"]
    return event_id


def _session_of(bought: dict[str, Any]) -> str:
    session_id: str = bought["purchase"]["checkoutSessionId"]
    return session_id


async def test_an_admin_buys_credits_and_the_balance_rises_once_however_often_stripe_says_so(
    postgres_url: str,
    stand_in: StripeStandIn,
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice", ("carol", "admin"))
        bought = await shop.bought("carol", org, "25.00")
        session_id = _session_of(bought)
        assert bought["purchase"]["status"] == "pending"
        session = await shop.stand_in.get(f"/v1/checkout/sessions/{session_id}")
        assert bought["checkoutUrl"] == session["url"]
        back = f"{PUBLIC_URL}/api/orgs/{org}/billing/purchases/{bought['purchase']['id']}"
        assert session["success_url"] == f"{back}?session_id={session_id}"
        assert (session["amount_total"], session["currency"], session["mode"]) == (
            2_500,
            "usd",
            "payment",
        )
        assert session["client_reference_id"] == bought["purchase"]["id"]
        assert (await shop.billing("alice", org))["balanceMicros"] == 0

        paid = await shop.stand_in.pay(session_id)

        assert paid["delivered"] == [202]
        [delivery] = await shop.settled(1)
        assert delivery.outcome == "credited"
        event = paid["event"]
        again = signed_event(event["type"], event["data"]["object"], event_id=event["id"])
        assert (await shop.deliver(*again)).status_code == 202
        other = signed_event("checkout.session.async_payment_succeeded", {"id": session_id})
        assert (await shop.deliver(*other)).status_code == 202
        await shop.settled(2)

        assert await shop.outcome_of(_event_id(other)) == "already credited"
        billing = await shop.billing("alice", org)
        assert billing["balanceMicros"] == 25_000_000
        [entry] = billing["entries"]
        assert (entry["kind"], entry["amountMicros"], entry["sourceId"]) == (
            "purchase",
            25_000_000,
            session_id,
        )
        shown = await shop.client.get(back, headers=bearer("carol"))
        assert (shown.status_code, shown.json()["status"]) == (200, "paid")


async def test_the_return_page_racing_the_webhook_credits_once(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        bought = await shop.bought("alice", org, "40")
        session_id = _session_of(bought)
        paid = await shop.stand_in.pay(session_id, deliver=False)
        event = paid["event"]
        body, headers = signed_event(event["type"], event["data"]["object"], event_id=event["id"])
        back = f"/api/orgs/{org}/billing/purchases/{bought['purchase']['id']}"

        answers = await asyncio.gather(
            shop.client.get(back, headers=bearer("alice")),
            shop.deliver(body, headers),
            shop.client.get(back, headers=bearer("alice")),
            shop.deliver(body, headers),
            shop.client.get(back, headers=bearer("alice")),
        )

        assert [a.status_code for a in answers] == [200, 202, 200, 202, 200]
        assert {answers[n].json()["status"] for n in (0, 2, 4)} == {"paid"}
        [delivery] = await shop.settled(1)
        assert delivery.outcome in {"credited", "already credited"}
        billing = await shop.billing("alice", org)
        assert billing["balanceMicros"] == 40_000_000
        assert len(billing["entries"]) == 1


class _UnkeyedLedger:
    """A ledger that keys each entry afresh: the mechanism the race relies on, taken away."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner

    async def record(self, entry: LedgerEntry) -> bool:
        return await self._inner.record(replace(entry, source_id=f"{entry.source_id}-{uuid4()}"))


class _UnkeyedUnitOfWork:
    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner
        self.ledger = _UnkeyedLedger(inner.ledger)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class UnkeyedFulfillment(Fulfillment):
    async def checkout(
        self,
        uow: UnitOfWork,
        session_id: str,
        now: datetime,
        *,
        event_created: datetime | None = None,
    ) -> str:
        unkeyed = cast("UnitOfWork", _UnkeyedUnitOfWork(uow))
        return await super().checkout(unkeyed, session_id, now, event_created=event_created)


class UnkeyedCredits(Provider):
    fulfillment = provide(UnkeyedFulfillment, provides=Fulfillment, scope=Scope.APP, override=True)


async def test_without_one_key_per_checkout_the_same_race_credits_more_than_once(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    """The negative control of the race above: the return pages really overlap."""
    async with _open(postgres_url, stand_in, UnkeyedCredits()) as shop:
        org = await shop.team("alice")
        bought = await shop.bought("alice", org, "40")
        await shop.stand_in.pay(_session_of(bought), deliver=False)
        back = f"/api/orgs/{org}/billing/purchases/{bought['purchase']['id']}"

        answers = await asyncio.gather(
            *(shop.client.get(back, headers=bearer("alice")) for _ in range(3))
        )

        assert [a.status_code for a in answers] == [200, 200, 200]
        assert (await shop.billing("alice", org))["balanceMicros"] >= 80_000_000


async def test_a_declined_card_credits_nothing_and_sends_no_event(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        bought = await shop.bought("alice", org)

        with pytest.raises(StripeRefusedError) as refused:
            await shop.stand_in.pay(_session_of(bought), DECLINED_CARD)

        assert refused.value.status == 402
        back = f"/api/orgs/{org}/billing/purchases/{bought['purchase']['id']}"
        shown = await shop.client.get(back, headers=bearer("alice"))
        assert shown.json()["status"] == "pending"
        assert await shop.deliveries() == []
        assert (await shop.billing("alice", org))["balanceMicros"] == 0


@pytest.mark.parametrize("forge", ["other-secret", "tampered", "stale"])
async def test_a_forged_or_stale_event_is_401_and_kept_nowhere(
    postgres_url: str, stand_in: StripeStandIn, forge: str
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        session_id = _session_of(await shop.bought("alice", org))
        paid = await shop.stand_in.pay(session_id, deliver=False)
        session = paid["event"]["data"]["object"]
        body, headers = signed_event("checkout.session.completed", session)
        if forge == "other-secret":
            body, headers = signed_event(
                "checkout.session.completed", session, secret="whsec_not_ours"
            )
        elif forge == "tampered":
            body = body.replace(b"checkout.session.completed", b"checkout.session.expired")
        else:
            body, headers = signed_event(
                "checkout.session.completed", session, signed_at=int(time.time()) - 301
            )

        response = await shop.deliver(body, headers)

        assert response.status_code == 401
        assert response.json()["code"] == "webhook-signature-invalid"
        assert STRIPE_WEBHOOK_SECRET not in response.text
        assert await shop.deliveries() == []
        assert (await shop.billing("alice", org))["balanceMicros"] == 0


async def test_refunds_and_disputes_debit_once_each(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        session_id = _session_of(await shop.bought("alice", org, "30"))
        paid = await shop.stand_in.pay(session_id)
        charge = paid["charge"]
        await shop.settled(1)

        await shop.stand_in.refund(charge, 500)
        refunded = signed_event("charge.refunded", {"id": charge, "object": "charge"})
        disputed = signed_event(
            "charge.dispute.created",
            {"id": "dp_test_1", "object": "dispute", "charge": charge, "amount": 1_000},
        )
        for delivery in (refunded, refunded, disputed, disputed):
            assert (await shop.deliver(*delivery)).status_code == 202
        await shop.settled(3)
        again = signed_event("charge.refunded", {"id": charge, "object": "charge"})
        assert (await shop.deliver(*again)).status_code == 202
        await shop.settled(4)

        billing = await shop.billing("alice", org)
        assert billing["balanceMicros"] == 30_000_000 - 5_000_000 - 10_000_000
        assert sorted((e["kind"], e["amountMicros"]) for e in billing["entries"]) == [
            ("purchase", 30_000_000),
            ("refund", -10_000_000),
            ("refund", -5_000_000),
        ]


async def test_subscription_events_out_of_order_never_roll_the_plan_back(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        await shop.bought("alice", org)  # the organization becomes a customer
        opened = await shop.client.post(
            f"/api/orgs/{org}/billing/subscription", headers=bearer("alice")
        )
        assert opened.status_code == 201, opened.text
        session_id = opened.json()["checkoutUrl"].rsplit("/", 1)[1]
        paid = await shop.stand_in.pay(session_id)
        subscription_id = paid["subscription"]
        await shop.settled(1)
        assert (await shop.billing("alice", org))["subscription"]["status"] == "active"
        invoice = {"id": "in_test_1", "object": "invoice", "subscription": subscription_id}
        assert (await shop.deliver(*signed_event("invoice.paid", invoice))).status_code == 202

        now = int(time.time())
        await shop.stand_in.change_subscription(subscription_id, status="canceled")
        newer = signed_event(
            "customer.subscription.deleted",
            {"id": subscription_id},
            created=now + 60,
            signed_at=now,
        )
        assert (await shop.deliver(*newer)).status_code == 202
        await shop.settled(3)
        await shop.stand_in.change_subscription(subscription_id, status="active")  # a lagging read
        older = signed_event(
            "customer.subscription.updated",
            {"id": subscription_id},
            created=now + 30,
            signed_at=now,
        )
        assert (await shop.deliver(*older)).status_code == 202
        await shop.settled(4)

        billing = await shop.billing("alice", org)
        assert billing["subscription"]["status"] == "canceled"
        assert billing["subscription"]["priceId"] == shop.plan_price
        assert await shop.outcome_of(_event_id(older)) == ("ignored: a newer event was kept")
        grants = [e for e in billing["entries"] if e["kind"] == "grant"]
        assert [(g["amountMicros"], g["sourceId"]) for g in grants] == [(20_000_000, "in_test_1")]


async def test_only_owners_and_admins_buy_and_outsiders_learn_nothing(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice", ("bob", "member"))
        await add_user(shop.postgres_url, "mallory")

        as_member = await shop.checkout("bob", org)
        as_outsider = await shop.checkout("mallory", org)
        member_reads = await shop.client.get(f"/api/orgs/{org}/billing", headers=bearer("bob"))
        portal = await shop.client.post(f"/api/orgs/{org}/billing/portal", headers=bearer("bob"))

        assert (as_member.status_code, as_member.json()["code"]) == (403, "not-an-org-admin")
        assert (member_reads.status_code, portal.status_code) == (403, 403)
        assert (as_outsider.status_code, as_outsider.json()["code"]) == (404, "org-not-found")


async def test_another_organizations_purchase_is_404(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        mine = await shop.team("alice")
        theirs = await shop.team("erin")
        bought = await shop.bought("erin", theirs)

        response = await shop.client.get(
            f"/api/orgs/{mine}/billing/purchases/{bought['purchase']['id']}",
            headers=bearer("alice"),
        )

        assert (response.status_code, response.json()["code"]) == (404, "purchase-not-found")


@pytest.mark.parametrize(
    ("amount", "code"),
    [("4.99", "invalid-credit-amount"), ("1001", "invalid-credit-amount"), ("1.001", None)],
)
async def test_an_amount_out_of_bounds_is_422_naming_it(
    postgres_url: str, stand_in: StripeStandIn, amount: str, code: str | None
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        response = await shop.checkout("alice", org, amount)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "amount"
        if code is not None:
            assert response.json()["code"] == code


async def test_the_portal_opens_once_the_organization_is_a_customer(
    postgres_url: str, stand_in: StripeStandIn
) -> None:
    async with _open(postgres_url, stand_in) as shop:
        org = await shop.team("alice")
        before = await shop.client.post(f"/api/orgs/{org}/billing/portal", headers=bearer("alice"))
        await shop.bought("alice", org)
        after = await shop.client.post(f"/api/orgs/{org}/billing/portal", headers=bearer("alice"))
        assert (before.status_code, before.json()["code"]) == (409, "no-billing-customer")
        assert after.status_code == 201
        assert after.json()["url"].startswith(shop.stand_in.url)


async def test_without_a_stripe_key_billing_says_it_is_not_configured(
    postgres_url: str,
) -> None:
    async with serve_concurrently(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        await add_user(postgres_url, "alice")
        created = await client.post("/api/orgs", json={"name": "Off"}, headers=bearer("alice"))
        assert created.status_code == 201, created.text
        org = created.json()
        bought = await client.post(
            f"/api/orgs/{org['id']}/billing/checkout",
            json={"amount": "10"},
            headers=bearer("alice"),
        )
        read = await client.get(f"/api/orgs/{org['id']}/billing", headers=bearer("alice"))
        hook = await client.post("/api/webhooks/stripe", content=b"{}")

    assert (bought.status_code, bought.json()["code"]) == (404, "billing-not-configured")
    assert "not configured" in bought.json()["detail"]
    assert (read.status_code, read.json()["billingEnabled"]) == (200, False)
    assert hook.status_code == 404


async def test_stripe_out_of_reach_is_503_and_nothing_is_sold(postgres_url: str) -> None:
    settings = clustered_settings(postgres_url)
    settings = settings.with_changes(
        billing=settings.billing.with_changes(
            stripe_secret_key="sk_test_unreachable",
            stripe_api_base=f"http://127.0.0.1:{closed_port()}",
        )
    )
    async with serve_concurrently(settings, BearerSubjectAuth()) as client:
        await add_user(postgres_url, "alice")
        orgs = (await client.get("/api/orgs", headers=bearer("alice"))).json()["items"]
        bought = await client.post(
            f"/api/orgs/{orgs[0]['id']}/billing/checkout",
            json={"amount": "10"},
            headers=bearer("alice"),
        )
        read = await client.get(f"/api/orgs/{orgs[0]['id']}/billing", headers=bearer("alice"))

    assert (bought.status_code, bought.json()["code"]) == (503, "payment-provider-unavailable")
    assert "Retry-After" in bought.headers
    assert (read.status_code, read.json()["entries"]) == (200, [])
