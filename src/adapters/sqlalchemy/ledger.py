from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import BillingAccountRow, LedgerEntryRow
from application.ports.ledger import Ledger
from domain.billing.ledger import EntryKind, LedgerEntry, LedgerEntryId
from domain.conversations.value_objects import ConversationId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId

__all__ = ("SqlaLedger",)


def _entry(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(
        id_=LedgerEntryId(row.id),
        org_id=OrgId(row.org_id),
        kind=EntryKind(row.kind),
        amount_micros=row.amount_micros,
        source=row.source,
        source_id=row.source_id,
        created_at=row.created_at,
        user_id=None if row.user_id is None else UserId(row.user_id),
        conversation_id=None
        if row.conversation_id is None
        else ConversationId(row.conversation_id),
        model=row.model,
        description=row.description,
    )


class SqlaLedger(Ledger):
    """``ledger_entries`` and ``billing_accounts``. An entry is inserted unless its cause is
    kept (``ON CONFLICT DO NOTHING`` on the unique ``(source, source_id)``: a racing replay
    waits for the first and then does nothing); only an inserted entry moves the balance, by
    an ``UPDATE ... SET balance = balance + amount`` the row's lock serialises."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, entry: LedgerEntry) -> bool:
        added = (
            dialect_insert(self._session, LedgerEntryRow)
            .values(
                id=entry.id_,
                org_id=entry.org_id,
                kind=entry.kind.value,
                amount_micros=entry.amount_micros,
                source=entry.source,
                source_id=entry.source_id,
                created_at=entry.created_at,
                user_id=entry.user_id,
                conversation_id=entry.conversation_id,
                model=entry.model,
                description=entry.description,
            )
            .on_conflict_do_nothing(index_elements=["source", "source_id"])
            .returning(LedgerEntryRow.id)
        )
        account = dialect_insert(self._session, BillingAccountRow).values(
            org_id=entry.org_id, balance_micros=entry.amount_micros
        )
        moved = account.on_conflict_do_update(
            index_elements=["org_id"],
            set_={"balance_micros": BillingAccountRow.balance_micros + entry.amount_micros},
        )
        async with translate_db_errors():
            if (await self._session.execute(added)).first() is None:
                return False
            await self._session.execute(moved)
        return True

    async def balance(self, org_id: OrgId) -> int:
        query = select(BillingAccountRow.balance_micros).where(BillingAccountRow.org_id == org_id)
        async with translate_db_errors():
            found = (await self._session.execute(query)).scalar()
        return int(found or 0)

    async def total(self, org_id: OrgId) -> int:
        query = select(func.coalesce(func.sum(LedgerEntryRow.amount_micros), 0)).where(
            LedgerEntryRow.org_id == org_id
        )
        async with translate_db_errors():
            return int((await self._session.execute(query)).scalar_one())

    async def entries(self, org_id: OrgId, limit: int = 100) -> list[LedgerEntry]:
        query = (
            select(LedgerEntryRow)
            .where(LedgerEntryRow.org_id == org_id)
            .order_by(LedgerEntryRow.created_at.desc(), LedgerEntryRow.id.desc())
            .limit(limit)
        )
        async with translate_db_errors():
            return [_entry(row) for row in (await self._session.scalars(query)).all()]

    async def member_cap(self, org_id: OrgId) -> int | None:
        query = select(BillingAccountRow.member_monthly_cap_micros).where(
            BillingAccountRow.org_id == org_id
        )
        async with translate_db_errors():
            return (await self._session.execute(query)).scalar()

    async def set_member_cap(self, org_id: OrgId, cap_micros: int | None) -> None:
        account = dialect_insert(self._session, BillingAccountRow).values(
            org_id=org_id, balance_micros=0, member_monthly_cap_micros=cap_micros
        )
        statement = account.on_conflict_do_update(
            index_elements=["org_id"], set_={"member_monthly_cap_micros": cap_micros}
        )
        async with translate_db_errors():
            await self._session.execute(statement)
