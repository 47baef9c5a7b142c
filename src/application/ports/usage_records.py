from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.billing.usage import UsageDimension, UsageRecord, UsageSummaryRow, UsageTotals
from domain.conversations.value_objects import ConversationId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId

__all__ = ("UsageRecords",)


class UsageRecords(Protocol):
    """What each usage report of a conversation added, once per report. Transactional: kept
    in the transaction that stores the report's event and debits the ledger."""

    @abstractmethod
    async def record(self, record: UsageRecord) -> bool:
        """Keep ``record``; False, keeping nothing, when its ``(conversation_id, report_id)``
        is kept already (a replayed or re-ingested report)."""

    @abstractmethod
    async def totals(self, conversation_id: ConversationId) -> UsageTotals:
        """The sum of what the conversation's reports added: the running totals so far."""

    @abstractmethod
    async def billed_since(self, org_id: OrgId, user_id: UserId, since: datetime) -> int:
        """What the organization paid, in micro-units, for the member's usage since
        ``since``."""

    @abstractmethod
    async def summary(
        self,
        org_id: OrgId,
        by: Sequence[UsageDimension],
        *,
        since: datetime,
        until: datetime,
        user_id: UserId | None = None,
    ) -> list[UsageSummaryRow]:
        """The organization's usage in ``[since, until)`` (only ``user_id``'s, when given),
        summed per combination of ``by``, in ``UsageSummaryRow.order_key`` order."""
