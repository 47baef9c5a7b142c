"""What agents used, per usage report of a conversation's runtime: the tokens and the cost a
report added to the conversation's running totals, for the person and organization it was
for, and whether the organization paid for it (an LLM key it manages) or the person did
(their own key)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.billing.ledger import micros
from domain.conversations.value_objects import ConversationId, Usage
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

__all__ = (
    "LlmPayer",
    "UsageDimension",
    "UsageRecord",
    "UsageRecordId",
    "UsageSummaryRow",
    "UsageTotals",
)

UsageRecordId = NewType("UsageRecordId", UUID)


class LlmPayer(StrEnum):
    """Who pays for a conversation's LLM calls: the organization (a key its admins set in its
    settings, so its balance is debited) or the person (their own key: recorded, not charged)."""

    ORG = "org"
    USER = "user"


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Running totals, or what one report added to them; cost in micro-units."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_micros: int = 0

    @classmethod
    def reported(cls, usage: Usage) -> "UsageTotals":
        """The running totals a runtime's usage report carries, its cost converted to
        micro-units once, here."""
        if (
            usage.cost_usd < 0
            or min(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
            < 0
        ):
            raise InvalidValueError("A usage report cannot be negative.", field="usage")
        return cls(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost_micros=micros(usage.cost_usd),
        )

    def added_since(self, before: "UsageTotals") -> "UsageTotals | None":
        """What these running totals added to ``before``; None when they added nothing. Each
        total only grows: one that reads lower (a report that came late) adds nothing."""
        added = UsageTotals(
            input_tokens=max(0, self.input_tokens - before.input_tokens),
            output_tokens=max(0, self.output_tokens - before.output_tokens),
            cache_read_tokens=max(0, self.cache_read_tokens - before.cache_read_tokens),
            cache_write_tokens=max(0, self.cache_write_tokens - before.cache_write_tokens),
            cost_micros=max(0, self.cost_micros - before.cost_micros),
        )
        return None if added == UsageTotals() else added


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRecord:
    """What one usage report added, once per ``(conversation_id, report_id)``; ``billed``
    when the organization paid (its balance was debited by ``usage.cost_micros``)."""

    conversation_id: ConversationId
    report_id: str
    org_id: OrgId
    user_id: UserId
    model: str | None
    usage: UsageTotals
    billed: bool
    created_at: datetime
    id_: UsageRecordId = field(default_factory=lambda: UsageRecordId(new_id()))

    @property
    def day(self) -> date:
        """The day (UTC) it counts on."""
        return self.created_at.date()


class UsageDimension(StrEnum):
    """What a usage summary is broken down by."""

    USER = "user"
    MODEL = "model"
    DAY = "day"


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageSummaryRow:
    """Usage summed over one combination of the dimensions asked for (a dimension not asked
    for is None). ``billed_micros`` is the part the organization paid."""

    user_id: UserId | None = None
    model: str | None = None
    day: date | None = None
    usage: UsageTotals
    billed_micros: int
    reports: int

    def order_key(self) -> tuple[tuple[bool, str], ...]:
        """Summaries come by day, then person, then model (a missing one first), compared
        by code point, whatever the database's collation."""
        return tuple(
            (value is not None, str(value)) for value in (self.day, self.user_id, self.model)
        )
