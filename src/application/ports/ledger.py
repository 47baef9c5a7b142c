from abc import abstractmethod
from typing import Protocol

from domain.billing.ledger import LedgerEntry
from domain.organizations.entities import OrgId

__all__ = ("Ledger",)


class Ledger(Protocol):
    """Each organization's entries and balance. Transactional: the unit of work commits, and
    an entry and the balance it moves commit together. The balance always equals the sum of
    the organization's entries."""

    @abstractmethod
    async def record(self, entry: LedgerEntry) -> bool:
        """Add ``entry`` and move its organization's balance by it; False, changing nothing,
        when an entry of its ``(source, source_id)`` is kept already (a replayed cause)."""

    @abstractmethod
    async def balance(self, org_id: OrgId) -> int:
        """The organization's balance in micro-units; 0 before its first entry."""

    @abstractmethod
    async def total(self, org_id: OrgId) -> int:
        """The sum of the organization's entries, counted afresh (what the balance must be)."""

    @abstractmethod
    async def entries(self, org_id: OrgId, limit: int = 100) -> list[LedgerEntry]:
        """The organization's entries, newest first."""

    @abstractmethod
    async def member_cap(self, org_id: OrgId) -> int | None:
        """What each member may spend of the organization's balance per calendar month (UTC),
        in micro-units; None: no cap."""

    @abstractmethod
    async def set_member_cap(self, org_id: OrgId, cap_micros: int | None) -> None:
        """Set (None: lift) the organization's cap on each member's monthly spending."""
