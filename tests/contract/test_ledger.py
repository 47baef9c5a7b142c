"""The billing ledger, on the fake, SQLite and PostgreSQL alike: a cause moves a balance once,
racing or replayed; concurrent entries lose nothing; the balance is always the sum of the
entries; one organization never sees another's."""

import asyncio
import secrets
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.billing.ledger import EntryKind, LedgerEntry, micros
from domain.conversations.entities import Tenant
from domain.organizations.entities import OrgId
from domain.shared.errors import InvalidValueError
from tests.backends import Backend, OpenPorts, open_backend
from tests.factories import T0, create_org, create_user


def _entry(
    org_id: OrgId,
    amount: int,
    source_id: str,
    *,
    kind: EntryKind | None = None,
    source: str = "test",
    minutes: int = 0,
) -> LedgerEntry:
    return LedgerEntry(
        org_id=org_id,
        kind=kind or (EntryKind.PURCHASE if amount > 0 else EntryKind.USAGE),
        amount_micros=amount,
        source=source,
        source_id=source_id,
        created_at=T0 + timedelta(minutes=minutes),
        model=None if amount > 0 else "litellm_proxy/claude-sonnet",
        description="Zoë's top-up" if amount > 0 else "",
    )


async def _record(open_ports: OpenPorts, *entries: LedgerEntry) -> list[bool]:
    async with open_ports() as ports:
        kept = [await ports.uow.ledger.record(e) for e in entries]
        await ports.uow.commit()
    return kept


async def _balance(open_ports: OpenPorts, org_id: OrgId) -> tuple[int, int]:
    async with open_ports() as ports:
        return await ports.uow.ledger.balance(org_id), await ports.uow.ledger.total(org_id)


async def test_entries_move_the_balance_and_add_up_to_it(
    open_ports: OpenPorts, orgs: list[OrgId]
) -> None:
    org = orgs[0]
    assert await _balance(open_ports, org) == (0, 0)
    top_up = _entry(org, micros("25.00"), "cs_1")
    spent = _entry(org, -micros("0.123456"), "usage-1", minutes=1)
    assert await _record(open_ports, top_up, spent) == [True, True]

    assert await _balance(open_ports, org) == (24_876_544, 24_876_544)
    async with open_ports() as ports:
        listed = await ports.uow.ledger.entries(org)
    assert listed == [spent, top_up]


async def test_a_replayed_cause_moves_the_balance_once(
    open_ports: OpenPorts, orgs: list[OrgId]
) -> None:
    org = orgs[0]
    assert await _record(open_ports, _entry(org, 5_000_000, "cs_1")) == [True]
    assert await _record(open_ports, _entry(org, 5_000_000, "cs_1")) == [False]
    assert await _record(open_ports, _entry(org, 5_000_000, "cs_1", source="other")) == [True]
    assert await _balance(open_ports, org) == (10_000_000, 10_000_000)


async def test_one_cause_recorded_by_two_transactions_at_once_counts_once(
    open_ports: OpenPorts, orgs: list[OrgId]
) -> None:
    async def record() -> bool:
        async with open_ports() as ports:
            kept = await ports.uow.ledger.record(_entry(orgs[0], 7_000_000, "cs_race"))
            await asyncio.sleep(0.05)
            await ports.uow.commit()
        return kept

    assert sorted(await asyncio.gather(record(), record())) == [False, True]
    assert await _balance(open_ports, orgs[0]) == (7_000_000, 7_000_000)


async def test_entries_of_one_organization_made_at_once_lose_nothing(
    open_ports: OpenPorts, orgs: list[OrgId]
) -> None:
    async def record(n: int) -> None:
        async with open_ports() as ports:
            await ports.uow.ledger.record(_entry(orgs[0], 1_000 * (n + 1), f"cs_{n}"))
            await asyncio.sleep(0.01)
            await ports.uow.commit()

    await asyncio.gather(*(record(n) for n in range(6)))
    assert await _balance(open_ports, orgs[0]) == (21_000, 21_000)


async def test_an_organization_sees_its_own_entries_and_balance_only(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants[0].org_id, tenants[1].org_id
    await _record(open_ports, _entry(mine, 3_000_000, "a"), _entry(theirs, 9_000_000, "b"))
    async with open_ports() as ports:
        assert [e.source_id for e in await ports.uow.ledger.entries(mine)] == ["a"]
    assert await _balance(open_ports, mine) == (3_000_000, 3_000_000)
    assert await _balance(open_ports, theirs) == (9_000_000, 9_000_000)


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (EntryKind.PURCHASE, -1),
        (EntryKind.GRANT, -5),
        (EntryKind.USAGE, 3),
        (EntryKind.REFUND, 2),
        (EntryKind.ADJUSTMENT, 0),
    ],
)
def test_an_entry_of_the_wrong_sign_or_zero_is_refused(kind: EntryKind, amount: int) -> None:
    with pytest.raises(InvalidValueError):
        LedgerEntry(
            org_id=OrgId(uuid.uuid4()),
            kind=kind,
            amount_micros=amount,
            source="test",
            source_id="x",
            created_at=T0,
        )


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("12.5", 12_500_000), (0.1, 100_000), ("0.0000005", 0), ("0.0000015", 2), (3, 3_000_000)],
)
def test_amounts_become_micro_units_exactly(amount: str | float | int, expected: int) -> None:
    assert micros(amount) == expected


steps = st.lists(
    st.tuples(
        st.sampled_from(["cs_1", "cs_2", "usage-1", "usage-2", "refund-1"]),
        st.integers(min_value=1, max_value=5_000_000),
        st.booleans(),
    ),
    max_size=15,
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=steps)
async def test_the_balance_is_the_sum_of_the_entries_whatever_is_replayed(
    backend_url: str | None, history: list[tuple[str, int, bool]]
) -> None:
    """Causes arriving in any order, some more than once, each in its own transaction, some
    rolled back: each kept cause counts once and the balance is the sum."""
    async with open_backend(backend_url) as backend:
        org = await _org(backend)
        run = secrets.token_hex(4)  # causes are unique across organizations and examples
        counted: dict[str, int] = {}
        for source_id, amount, commit in history:
            signed = amount if source_id.startswith("cs_") else -amount
            async with backend.open() as ports:
                entry = _entry(org, signed, f"{run}-{source_id}")
                kept = await ports.uow.ledger.record(entry)
                assert kept == (source_id not in counted)
                if commit:
                    await ports.uow.commit()
                    counted.setdefault(source_id, signed)
        assert await _balance(backend.open, org) == (sum(counted.values()),) * 2


async def _org(backend: Backend) -> OrgId:
    user = create_user()
    org, owner = create_org(user)
    async with backend.open() as ports:
        await ports.users.add(user)
        await ports.orgs.add(org, owner)
        await ports.uow.commit()
    return org.id_
