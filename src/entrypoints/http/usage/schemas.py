import csv
import io
from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec

from application.billing import ShowUsageResult
from domain.billing.ledger import micros_text
from domain.billing.usage import UsageDimension, UsageSummaryRow
from domain.shared.errors import InvalidValueError

__all__ = (
    "MemberCapOut",
    "MemberCapUpdate",
    "UsageOut",
    "dimensions",
    "usage_csv",
)


def dimensions(raw: str | None) -> list[UsageDimension]:
    """``day,user,model``, in any order and combination, or none."""
    if not raw:
        return []
    found = []
    for part in raw.split(","):
        try:
            found.append(UsageDimension(part.strip()))
        except ValueError:
            raise InvalidValueError(
                "Break usage down by day, user or model, separated by commas.", field="by"
            ) from None
    return found


class UsageRowOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    day: date | None
    user_id: UUID | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: str
    """What the LLM calls cost, whoever paid."""
    billed: str
    """The part the organization paid (its LLM key); the rest was on members' own keys."""
    reports: int

    @classmethod
    def from_row(cls, row: UsageSummaryRow) -> "UsageRowOut":
        usage = row.usage
        return cls(
            day=row.day,
            user_id=row.user_id,
            model=row.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost=micros_text(usage.cost_micros),
            billed=micros_text(row.billed_micros),
            reports=row.reports,
        )


class UsageOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    since: date
    until: date
    currency: str
    items: list[UsageRowOut]

    @classmethod
    def from_result(cls, result: ShowUsageResult) -> "UsageOut":
        return cls(
            since=result.since,
            until=result.until,
            currency=result.currency,
            items=[UsageRowOut.from_row(row) for row in result.rows],
        )


_CSV_COLUMNS = (
    "day",
    "user_id",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost",
    "billed",
    "currency",
    "reports",
)


def _cell(value: object) -> str:
    """A cell no spreadsheet runs as a formula (a model name is the runtime's text)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def usage_csv(result: ShowUsageResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for row in result.rows:
        usage = row.usage
        writer.writerow(
            _cell(value)
            for value in (
                row.day,
                row.user_id,
                row.model,
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
                micros_text(usage.cost_micros),
                micros_text(row.billed_micros),
                result.currency,
                row.reports,
            )
        )
    return out.getvalue()


class MemberCapUpdate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    member_monthly_cap: Annotated[str | None, msgspec.Meta(examples=["25.00"])]
    """What each member may spend of the organization's balance per month; null lifts it."""


class MemberCapOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    member_monthly_cap: str | None
    currency: str
