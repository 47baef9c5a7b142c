"""Customers, purchases and subscriptions, on the fake, SQLite and PostgreSQL alike: an
organization keeps its first customer, a purchase is marked paid once however many mark it at
once, and a subscription is only ever replaced by what a newer event told."""

import asyncio
from dataclasses import replace
from datetime import timedelta

from domain.billing.payments import Purchase, PurchaseStatus, Subscription
from domain.conversations.entities import Tenant
from domain.organizations.entities import OrgId
from tests.backends import OpenPorts
from tests.factories import T0


def _subscription(org_id: OrgId, status: str, minutes: int, sub: str = "sub_1") -> Subscription:
    return Subscription(
        subscription_id=f"{sub}-{org_id}",
        org_id=org_id,
        customer_id=f"cus-{org_id}",
        status=status,
        price_id="price_plan",
        current_period_end=T0 + timedelta(days=30),
        cancel_at_period_end=status == "canceling",
        event_created=T0 + timedelta(minutes=minutes),
    )


async def _save(open_ports: OpenPorts, subscription: Subscription) -> bool:
    async with open_ports() as ports:
        kept = await ports.uow.billing.save_subscription(subscription)
        await ports.uow.commit()
    return kept


async def test_an_organization_keeps_its_first_customer(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants[0].org_id, tenants[1].org_id
    async with open_ports() as ports:
        assert await ports.uow.billing.customer(mine) is None
        assert await ports.uow.billing.keep_customer(mine, "cus_first") == "cus_first"
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.billing.keep_customer(mine, "cus_second") == "cus_first"
        assert await ports.uow.billing.keep_customer(theirs, "cus_theirs") == "cus_theirs"
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.billing.customer(mine) == "cus_first"
        assert await ports.uow.billing.org_of_customer("cus_first") == mine
        assert await ports.uow.billing.org_of_customer("cus_theirs") == theirs
        assert await ports.uow.billing.org_of_customer("cus_second") is None


async def test_a_purchase_is_kept_named_by_its_checkout_and_paid_once(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    tenant = tenants[0]
    purchase = Purchase.start(
        org_id=tenant.org_id,
        user_id=tenant.user_id,
        amount_micros=25_000_000,
        currency="usd",
        now=T0,
    )
    async with open_ports() as ports:
        await ports.uow.billing.add_purchase(purchase)
        await ports.uow.billing.attach_checkout(purchase.id_, "cs_test_1")
        await ports.uow.commit()

    async def mark() -> bool:
        async with open_ports() as ports:
            marked = await ports.uow.billing.mark_paid(purchase.id_, T0 + timedelta(minutes=1))
            await asyncio.sleep(0.05)
            await ports.uow.commit()
        return marked

    assert sorted(await asyncio.gather(mark(), mark())) == [False, True]
    async with open_ports() as ports:
        found = await ports.uow.billing.purchase(purchase.id_)
    assert found == replace(
        purchase,
        checkout_session_id="cs_test_1",
        status=PurchaseStatus.PAID,
        paid_at=T0 + timedelta(minutes=1),
    )


async def test_only_a_pending_purchase_is_marked_failed_and_money_taken_still_credits(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    tenant = tenants[0]
    refused, paid = (
        Purchase.start(
            org_id=tenant.org_id,
            user_id=tenant.user_id,
            amount_micros=amount,
            currency="usd",
            now=T0,
        )
        for amount in (10_000_000, 20_000_000)
    )
    async with open_ports() as ports:
        await ports.uow.billing.add_purchase(refused)
        await ports.uow.billing.add_purchase(paid)
        assert await ports.uow.billing.mark_paid(paid.id_, T0)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.billing.mark_failed(refused.id_)
        assert not await ports.uow.billing.mark_failed(paid.id_)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert not await ports.uow.billing.mark_failed(refused.id_)
        assert await ports.uow.billing.purchase(refused.id_) == refused.failed()
        assert await ports.uow.billing.purchase(paid.id_) == paid.paid(T0)
        assert await ports.uow.billing.mark_paid(refused.id_, T0)  # paid after all: credited
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.billing.purchase(refused.id_) == refused.paid(T0)


async def test_a_subscription_is_replaced_only_by_a_newer_event(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    org = tenants[0].org_id
    assert await _save(open_ports, _subscription(org, "active", 5))
    assert not await _save(open_ports, _subscription(org, "incomplete", 1))
    assert not await _save(open_ports, _subscription(org, "past_due", 5))
    async with open_ports() as ports:
        assert await ports.uow.billing.subscription(org) == _subscription(org, "active", 5)

    assert await _save(open_ports, _subscription(org, "canceled", 9))
    assert not await _save(open_ports, _subscription(org, "active", 7))
    async with open_ports() as ports:
        assert await ports.uow.billing.subscription(org) == _subscription(org, "canceled", 9)
        assert await ports.uow.billing.subscription(tenants[1].org_id) is None


async def test_an_organization_sees_its_newest_subscription(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    org = tenants[0].org_id
    await _save(open_ports, _subscription(org, "canceled", 3, sub="sub_old"))
    await _save(open_ports, _subscription(org, "active", 8, sub="sub_new"))
    async with open_ports() as ports:
        found = await ports.uow.billing.subscription(org)
    assert found == _subscription(org, "active", 8, sub="sub_new")
