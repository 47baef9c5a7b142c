"""Experiment assignments on the fake, SQLite and PostgreSQL alike: a conversation's variants
read back as kept; the first kept for an experiment wins, a racing transaction's included;
one conversation never sees another's."""

import asyncio
from datetime import timedelta

from domain.conversations.entities import Conversation, Tenant
from domain.conversations.value_objects import ConversationId
from domain.experiments.assignments import ExperimentAssignment
from domain.shared.ids import new_id
from tests.backends import OpenPorts
from tests.factories import T0


async def _conversation(open_ports: OpenPorts, tenant: Tenant) -> ConversationId:
    made = Conversation(id_=ConversationId(new_id()), tenant=tenant, created_at=T0, updated_at=T0)
    async with open_ports() as ports:
        await ports.uow.conversations.add(made)
        await ports.uow.commit()
    return made.id_


def _assigned(cid: ConversationId, experiment: str, variant: str) -> ExperimentAssignment:
    return ExperimentAssignment(
        conversation_id=cid,
        experiment=experiment,
        variant=variant,
        assigned_at=T0 + timedelta(seconds=1),
    )


async def _add(open_ports: OpenPorts, *assignments: ExperimentAssignment) -> None:
    async with open_ports() as ports:
        await ports.uow.experiments.add(list(assignments))
        await ports.uow.commit()


async def _variants(open_ports: OpenPorts, cid: ConversationId) -> dict[str, str]:
    async with open_ports() as ports:
        return await ports.uow.experiments.of_conversation(cid)


async def test_a_conversations_variants_read_back_and_another_has_none(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    cid = await _conversation(open_ports, tenants[0])
    other = await _conversation(open_ports, tenants[1])
    assert await _variants(open_ports, cid) == {}
    await _add(open_ports, _assigned(cid, "prompt", "long"), _assigned(cid, "condenser", "off"))
    assert await _variants(open_ports, cid) == {"prompt": "long", "condenser": "off"}
    assert await _variants(open_ports, other) == {}


async def test_nothing_added_keeps_nothing(open_ports: OpenPorts, tenants: list[Tenant]) -> None:
    cid = await _conversation(open_ports, tenants[0])
    await _add(open_ports)
    assert await _variants(open_ports, cid) == {}


async def test_the_first_variant_kept_for_an_experiment_wins(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    cid = await _conversation(open_ports, tenants[0])
    await _add(open_ports, _assigned(cid, "prompt", "long"))
    await _add(open_ports, _assigned(cid, "prompt", "short"), _assigned(cid, "model", "b"))
    assert await _variants(open_ports, cid) == {"prompt": "long", "model": "b"}


async def test_an_uncommitted_assignment_is_not_kept(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    cid = await _conversation(open_ports, tenants[0])
    async with open_ports() as ports:
        await ports.uow.experiments.add([_assigned(cid, "prompt", "long")])
        assert await ports.uow.experiments.of_conversation(cid) == {"prompt": "long"}
        await ports.uow.rollback()
    assert await _variants(open_ports, cid) == {}


async def test_two_transactions_assigning_at_once_keep_one_variant(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    """The second adds while the first, which added already, is still open: it waits for the
    first to commit, then keeps nothing of its own."""
    cid = await _conversation(open_ports, tenants[0])
    first_added, second_adding = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with open_ports() as ports:
            await ports.uow.experiments.add([_assigned(cid, "prompt", "long")])
            first_added.set()
            await second_adding.wait()
            await asyncio.sleep(0)  # let the second's insert reach the database first
            await ports.uow.commit()

    async def second() -> dict[str, str]:
        await first_added.wait()
        async with open_ports() as ports:
            second_adding.set()
            await ports.uow.experiments.add([_assigned(cid, "prompt", "short")])
            await ports.uow.commit()
        return await _variants(open_ports, cid)

    _, seen = await asyncio.gather(first(), second())
    assert seen == {"prompt": "long"}
