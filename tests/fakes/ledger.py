from application.ports.ledger import Ledger
from domain.billing.ledger import LedgerEntry, LedgerEntryId
from domain.organizations.entities import OrgId
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeLedger",)


class FakeLedger(Ledger):
    """Entries over the ``FakeStore``'s ``ledger`` table; the balance is kept apart, moved by
    each entry, as the SQL adapter keeps it. A cause another open transaction recorded is
    waited for, as the unique index makes SQL wait; so is the organization's balance row."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    @property
    def _entries(self) -> dict[LedgerEntryId, LedgerEntry]:
        return self._store.live.ledger

    async def record(self, entry: LedgerEntry) -> bool:
        await self._locks.hold(("ledger", entry.source, entry.source_id))
        if any(
            (kept.source, kept.source_id) == (entry.source, entry.source_id)
            for kept in self._entries.values()
        ):
            return False
        await self._locks.hold(("balance", entry.org_id))
        self._entries[entry.id_] = entry
        balances = self._store.live.balances
        balances[entry.org_id] = balances.get(entry.org_id, 0) + entry.amount_micros
        return True

    async def balance(self, org_id: OrgId) -> int:
        return self._store.live.balances.get(org_id, 0)

    async def total(self, org_id: OrgId) -> int:
        return sum(e.amount_micros for e in self._entries.values() if e.org_id == org_id)

    async def entries(self, org_id: OrgId, limit: int = 100) -> list[LedgerEntry]:
        found = [e for e in self._entries.values() if e.org_id == org_id]
        return sorted(found, key=lambda e: (e.created_at, e.id_), reverse=True)[:limit]

    async def member_cap(self, org_id: OrgId) -> int | None:
        return self._store.live.member_caps.get(org_id)

    async def set_member_cap(self, org_id: OrgId, cap_micros: int | None) -> None:
        await self._locks.hold(("balance", org_id))
        if cap_micros is None:
            self._store.live.member_caps.pop(org_id, None)
        else:
            self._store.live.member_caps[org_id] = cap_micros
