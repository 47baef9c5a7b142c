from collections.abc import Sequence
from datetime import datetime

from application.ports.usage_records import UsageRecords
from domain.billing.usage import (
    UsageDimension,
    UsageRecord,
    UsageRecordId,
    UsageSummaryRow,
    UsageTotals,
)
from domain.conversations.value_objects import ConversationId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeUsageRecords",)


def _add(a: UsageTotals, b: UsageTotals) -> UsageTotals:
    return UsageTotals(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        cache_read_tokens=a.cache_read_tokens + b.cache_read_tokens,
        cache_write_tokens=a.cache_write_tokens + b.cache_write_tokens,
        cost_micros=a.cost_micros + b.cost_micros,
    )


class FakeUsageRecords(UsageRecords):
    """Records over the ``FakeStore``'s ``usage`` table; a report another open transaction
    recorded is waited for, as the unique index makes SQL wait."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    @property
    def _rows(self) -> dict[UsageRecordId, UsageRecord]:
        return self._store.live.usage

    async def record(self, record: UsageRecord) -> bool:
        await self._locks.hold(("usage", record.conversation_id, record.report_id))
        if any(
            (kept.conversation_id, kept.report_id) == (record.conversation_id, record.report_id)
            for kept in self._rows.values()
        ):
            return False
        self._rows[record.id_] = record
        return True

    async def totals(self, conversation_id: ConversationId) -> UsageTotals:
        total = UsageTotals()
        for kept in self._rows.values():
            if kept.conversation_id == conversation_id:
                total = _add(total, kept.usage)
        return total

    async def billed_since(self, org_id: OrgId, user_id: UserId, since: datetime) -> int:
        return sum(
            kept.usage.cost_micros
            for kept in self._rows.values()
            if (kept.org_id, kept.user_id) == (org_id, user_id)
            and kept.billed
            and kept.created_at >= since
        )

    async def summary(
        self,
        org_id: OrgId,
        by: Sequence[UsageDimension],
        *,
        since: datetime,
        until: datetime,
        user_id: UserId | None = None,
    ) -> list[UsageSummaryRow]:
        groups: dict[tuple[object, ...], UsageSummaryRow] = {}
        for kept in self._rows.values():
            if kept.org_id != org_id or not since <= kept.created_at < until:
                continue
            if user_id is not None and kept.user_id != user_id:
                continue
            key = UsageSummaryRow(
                day=kept.day if UsageDimension.DAY in by else None,
                user_id=kept.user_id if UsageDimension.USER in by else None,
                model=kept.model if UsageDimension.MODEL in by else None,
                usage=UsageTotals(),
                billed_micros=0,
                reports=0,
            )
            group = (key.day, key.user_id, key.model)
            before = groups.get(group, key)
            groups[group] = UsageSummaryRow(
                day=key.day,
                user_id=key.user_id,
                model=key.model,
                usage=_add(before.usage, kept.usage),
                billed_micros=before.billed_micros + (kept.usage.cost_micros if kept.billed else 0),
                reports=before.reports + 1,
            )
        return sorted(groups.values(), key=UsageSummaryRow.order_key)
