"""Usage records, on the fake, SQLite and PostgreSQL alike: a report is kept once however
often it is replayed or raced; a conversation's totals are the sum of what its reports added;
summaries break usage down by day, person and model within the organization only; what the
organization paid for a member this month is counted apart from what the member paid; the
cap on each member's monthly spending is kept with the account."""

import asyncio
from datetime import timedelta

from domain.billing.usage import UsageDimension, UsageRecord, UsageTotals
from domain.conversations.entities import Tenant
from domain.conversations.value_objects import ConversationId
from domain.shared.ids import new_id
from tests.backends import OpenPorts
from tests.factories import T0


def _record(
    tenant: Tenant,
    conversation_id: ConversationId,
    report_id: str,
    *,
    cost: int = 1_000,
    tokens: int = 10,
    model: str | None = "litellm_proxy/claude-sonnet",
    billed: bool = True,
    hours: float = 0,
) -> UsageRecord:
    return UsageRecord(
        conversation_id=conversation_id,
        report_id=report_id,
        org_id=tenant.org_id,
        user_id=tenant.user_id,
        model=model,
        usage=UsageTotals(
            input_tokens=tokens,
            output_tokens=tokens // 2,
            cache_read_tokens=tokens // 5,
            cache_write_tokens=1,
            cost_micros=cost,
        ),
        billed=billed,
        created_at=T0 + timedelta(hours=hours),
    )


async def _keep(open_ports: OpenPorts, *records: UsageRecord) -> list[bool]:
    async with open_ports() as ports:
        kept = [await ports.uow.usage.record(r) for r in records]
        await ports.uow.commit()
    return kept


async def test_a_report_is_kept_once_and_the_totals_add_up(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    cid, other = ConversationId(new_id()), ConversationId(new_id())
    first = _record(tenants[0], cid, "ev-1", cost=1_500, tokens=100)
    assert await _keep(
        open_ports,
        first,
        _record(tenants[0], cid, "ev-2", cost=500, tokens=20),
        _record(tenants[0], other, "ev-1", cost=9_000, tokens=1),  # same id, other conversation
    ) == [True, True, True]
    assert await _keep(open_ports, _record(tenants[0], cid, "ev-1", cost=7)) == [False]
    async with open_ports() as ports:
        assert await ports.uow.usage.totals(cid) == UsageTotals(
            input_tokens=120,
            output_tokens=60,
            cache_read_tokens=24,
            cache_write_tokens=2,
            cost_micros=2_000,
        )
        assert await ports.uow.usage.totals(ConversationId(new_id())) == UsageTotals()


async def test_one_report_kept_by_two_transactions_at_once_counts_once(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    cid = ConversationId(new_id())

    async def keep() -> bool:
        async with open_ports() as ports:
            kept = await ports.uow.usage.record(_record(tenants[0], cid, "ev-race", cost=3_000))
            await asyncio.sleep(0.01)  # both inside their transactions at once
            await ports.uow.commit()
            return kept

    assert sorted(await asyncio.gather(keep(), keep())) == [False, True]
    async with open_ports() as ports:
        assert (await ports.uow.usage.totals(cid)).cost_micros == 3_000


async def test_summaries_break_usage_down_within_the_organization_only(
    open_ports: OpenPorts, teammates: list[Tenant], tenants: list[Tenant]
) -> None:
    owner, member = teammates
    cid, theirs = ConversationId(new_id()), ConversationId(new_id())
    await _keep(
        open_ports,
        _record(owner, cid, "a", cost=1_000, model="m-b"),
        _record(owner, cid, "b", cost=2_000, model="M-a", hours=25),
        _record(member, theirs, "a", cost=4_000, model="m-b", billed=False),
        _record(member, theirs, "b", cost=8_000, model=None, hours=1),
        _record(tenants[0], ConversationId(new_id()), "x", cost=10**6),  # another org's
    )
    async with open_ports() as ports:
        usage = ports.uow.usage
        since, until = T0, T0 + timedelta(days=2)
        [whole] = await usage.summary(owner.org_id, [], since=since, until=until)
        assert (whole.usage.cost_micros, whole.billed_micros, whole.reports) == (15_000, 11_000, 4)
        assert (whole.day, whole.user_id, whole.model) == (None, None, None)

        by_model = await usage.summary(
            owner.org_id, [UsageDimension.MODEL], since=since, until=until
        )
        # a missing model first, then by code point whatever the collation: "M-a" < "m-b"
        assert [(r.model, r.usage.cost_micros) for r in by_model] == [
            (None, 8_000),
            ("M-a", 2_000),
            ("m-b", 5_000),
        ]
        by_day_user = await usage.summary(
            owner.org_id, [UsageDimension.USER, UsageDimension.DAY], since=since, until=until
        )
        first_day = sorted([str(owner.user_id), str(member.user_id)])
        assert [(r.day, str(r.user_id)) for r in by_day_user] == [
            (T0.date(), first_day[0]),
            (T0.date(), first_day[1]),
            ((T0 + timedelta(days=1)).date(), str(owner.user_id)),
        ]
        mine = await usage.summary(
            owner.org_id, [UsageDimension.USER], user_id=member.user_id, since=since, until=until
        )
        assert [(r.user_id, r.usage.cost_micros, r.billed_micros) for r in mine] == [
            (member.user_id, 12_000, 8_000)
        ]
        early = await usage.summary(
            owner.org_id, [UsageDimension.DAY], since=T0, until=T0 + timedelta(hours=1)
        )
        assert [r.usage.cost_micros for r in early] == [5_000]  # until is exclusive
        assert await usage.summary(tenants[1].org_id, [], since=since, until=until) == []


async def test_what_the_organization_paid_for_a_member_counts_billed_usage_since_a_time(
    open_ports: OpenPorts, teammates: list[Tenant]
) -> None:
    owner, member = teammates
    cid = ConversationId(new_id())
    await _keep(
        open_ports,
        _record(member, cid, "a", cost=1_000, hours=-1),
        _record(member, cid, "b", cost=2_000),
        _record(member, cid, "c", cost=4_000, billed=False, hours=1),
        _record(owner, ConversationId(new_id()), "a", cost=8_000, hours=1),
    )
    async with open_ports() as ports:
        assert await ports.uow.usage.billed_since(member.org_id, member.user_id, T0) == 2_000
        assert await ports.uow.usage.billed_since(owner.org_id, owner.user_id, T0) == 8_000


async def test_the_cap_on_each_members_spending_is_kept_with_the_account(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    first, second = (tenant.org_id for tenant in tenants)
    async with open_ports() as ports:
        assert await ports.uow.ledger.member_cap(first) is None
        await ports.uow.ledger.set_member_cap(first, 25_000_000)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.ledger.member_cap(first) == 25_000_000
        assert await ports.uow.ledger.member_cap(second) is None
        assert await ports.uow.ledger.balance(first) == 0
        await ports.uow.ledger.set_member_cap(first, None)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.ledger.member_cap(first) is None
