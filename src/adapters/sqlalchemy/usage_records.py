from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import UsageRecordRow
from application.ports.usage_records import UsageRecords
from domain.billing.usage import UsageDimension, UsageRecord, UsageSummaryRow, UsageTotals
from domain.conversations.value_objects import ConversationId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId

__all__ = ("SqlaUsageRecords",)

_COUNTED = (
    UsageRecordRow.input_tokens,
    UsageRecordRow.output_tokens,
    UsageRecordRow.cache_read_tokens,
    UsageRecordRow.cache_write_tokens,
    UsageRecordRow.cost_micros,
)
_DIMENSIONS: dict[UsageDimension, Any] = {
    UsageDimension.DAY: UsageRecordRow.day,
    UsageDimension.USER: UsageRecordRow.user_id,
    UsageDimension.MODEL: UsageRecordRow.model,
}


def _sums() -> list[ColumnElement[Any]]:
    return [func.coalesce(func.sum(column), 0) for column in _COUNTED]


class SqlaUsageRecords(UsageRecords):
    """``usage_records``: a report is inserted unless kept (``ON CONFLICT DO NOTHING`` on the
    unique ``(conversation_id, report_id)``); summaries are ``GROUP BY`` the dimensions."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, record: UsageRecord) -> bool:
        usage = record.usage
        statement = (
            dialect_insert(self._session, UsageRecordRow)
            .values(
                id=record.id_,
                conversation_id=record.conversation_id,
                report_id=record.report_id,
                org_id=record.org_id,
                user_id=record.user_id,
                model=record.model,
                day=record.day,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                cost_micros=usage.cost_micros,
                billed=record.billed,
                created_at=record.created_at,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id", "report_id"])
            .returning(UsageRecordRow.id)
        )
        async with translate_db_errors():
            return (await self._session.execute(statement)).first() is not None

    async def totals(self, conversation_id: ConversationId) -> UsageTotals:
        query = select(*_sums()).where(UsageRecordRow.conversation_id == conversation_id)
        async with translate_db_errors():
            row = (await self._session.execute(query)).one()
        return UsageTotals(*(int(value) for value in row))

    async def billed_since(self, org_id: OrgId, user_id: UserId, since: datetime) -> int:
        query = select(func.coalesce(func.sum(UsageRecordRow.cost_micros), 0)).where(
            UsageRecordRow.org_id == org_id,
            UsageRecordRow.user_id == user_id,
            UsageRecordRow.billed.is_(True),
            UsageRecordRow.created_at >= since,
        )
        async with translate_db_errors():
            return int((await self._session.execute(query)).scalar_one())

    async def summary(
        self,
        org_id: OrgId,
        by: Sequence[UsageDimension],
        *,
        since: datetime,
        until: datetime,
        user_id: UserId | None = None,
    ) -> list[UsageSummaryRow]:
        dimensions = list(dict.fromkeys(by))
        keys = [_DIMENSIONS[d] for d in dimensions]
        billed = func.coalesce(
            func.sum(UsageRecordRow.cost_micros).filter(UsageRecordRow.billed.is_(True)), 0
        )
        query = (
            select(*keys, *_sums(), billed, func.count())
            .where(
                UsageRecordRow.org_id == org_id,
                UsageRecordRow.created_at >= since,
                UsageRecordRow.created_at < until,
            )
            .group_by(*keys)
        )
        if user_id is not None:
            query = query.where(UsageRecordRow.user_id == user_id)
        async with translate_db_errors():
            rows = (await self._session.execute(query)).all()
        found = []
        for row in rows:
            named = dict(zip(dimensions, row[: len(keys)], strict=True))
            counts = [int(value) for value in row[len(keys) :]]
            if not counts[6]:
                continue  # no dimension asked for and nothing in the window: no row at all
            found.append(
                UsageSummaryRow(
                    day=named.get(UsageDimension.DAY),
                    user_id=(
                        None
                        if named.get(UsageDimension.USER) is None
                        else UserId(named[UsageDimension.USER])
                    ),
                    model=named.get(UsageDimension.MODEL),
                    usage=UsageTotals(*counts[:5]),
                    billed_micros=counts[5],
                    reports=counts[6],
                )
            )
        return sorted(found, key=UsageSummaryRow.order_key)
