"""The webhook inbox, on the fake, SQLite and PostgreSQL alike: a delivery is kept once per
source and delivery id, racing or not, and processed once."""

import asyncio
from datetime import timedelta

from domain.webhooks.entities import DeliveryStatus, WebhookDelivery
from tests.backends import OpenPorts
from tests.factories import T0


def _delivery(
    delivery_id: str = "d-1", source: str = "github", minutes: int = 0
) -> WebhookDelivery:
    return WebhookDelivery.receive(
        source=source,
        delivery_id=delivery_id,
        event="issues",
        body='{"action": "opened", "title": "Zoë\\u2019s bug"}',
        now=T0 + timedelta(minutes=minutes),
    )


async def _record(open_ports: OpenPorts, *deliveries: WebhookDelivery) -> list[bool]:
    async with open_ports() as ports:
        kept = [await ports.uow.webhooks.record(d) for d in deliveries]
        await ports.uow.commit()
    return kept


async def test_a_delivery_is_kept_once_per_source_and_id(open_ports: OpenPorts) -> None:
    first = _delivery()
    assert await _record(open_ports, first) == [True]
    assert await _record(open_ports, _delivery(), _delivery(source="gitlab")) == [False, True]
    async with open_ports() as ports:
        kept = await ports.uow.webhooks.get(first.id_)
        found = await ports.uow.webhooks.find("github", "d-1")
        listed = await ports.uow.webhooks.list(source="github")
        assert await ports.uow.webhooks.find("github", "d-2") is None
    assert kept == first
    assert found == first
    assert [d.id_ for d in listed] == [first.id_]


async def test_one_delivery_recorded_by_two_transactions_at_once_is_kept_once(
    open_ports: OpenPorts,
) -> None:
    async def record() -> bool:
        async with open_ports() as ports:
            kept = await ports.uow.webhooks.record(_delivery())
            await asyncio.sleep(0.05)
            await ports.uow.commit()
        return kept

    assert sorted(await asyncio.gather(record(), record())) == [False, True]
    async with open_ports() as ports:
        assert len(await ports.uow.webhooks.list()) == 1


async def test_a_delivery_is_marked_processed_once_with_its_outcome(open_ports: OpenPorts) -> None:
    delivery = _delivery()
    await _record(open_ports, delivery)
    async with open_ports() as ports:
        assert await ports.uow.webhooks.mark_processed(delivery.id_, T0, "pong")
        assert not await ports.uow.webhooks.mark_processed(delivery.id_, T0, "again")
        await ports.uow.commit()
    async with open_ports() as ports:
        done = await ports.uow.webhooks.get(delivery.id_)
        processed = await ports.uow.webhooks.list(status=DeliveryStatus.PROCESSED)
    assert done is not None
    assert (done.status, done.outcome, done.processed_at) == (DeliveryStatus.PROCESSED, "pong", T0)
    assert [d.id_ for d in processed] == [delivery.id_]


async def test_deliveries_left_received_are_found_oldest_first(open_ports: OpenPorts) -> None:
    old, older, recent, done = (
        _delivery("a", minutes=-10),
        _delivery("b", minutes=-20),
        _delivery("c", minutes=-1),
        _delivery("d", minutes=-30),
    )
    await _record(open_ports, old, older, recent, done)
    async with open_ports() as ports:
        await ports.uow.webhooks.mark_processed(done.id_, T0, "ignored")
        await ports.uow.commit()
    async with open_ports() as ports:
        left = await ports.uow.webhooks.left_received(T0 - timedelta(minutes=5))
        newest_first = await ports.uow.webhooks.list(status=DeliveryStatus.RECEIVED, limit=2)
    assert [d.delivery_id for d in left] == ["b", "a"]
    assert [d.delivery_id for d in newest_first] == ["c", "a"]
