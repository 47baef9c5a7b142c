import hashlib
import re
from datetime import datetime

from application.billing.funds import BudgetPolicy, month_start
from application.ports.unit_of_work import UnitOfWork
from domain.billing.holds import BillingHold
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.billing.usage import LlmPayer, UsageRecord, UsageTotals
from domain.conversations.entities import Conversation
from domain.conversations.value_objects import Usage

__all__ = ("USAGE_SOURCE", "UsageAccounting")

USAGE_SOURCE = "usage"
"""The ledger source of what agents spent; its source id names the conversation and report."""

_PLAIN = re.compile(r"[\x21-\x7e]{1,150}")
_PLAIN_MODEL = re.compile(r"[\x21-\x7e]{1,200}")


def _model(usage: Usage) -> str | None:
    """The report's model, when it names one the ledger can show."""
    return usage.model if usage.model and _PLAIN_MODEL.fullmatch(usage.model) else None


def _report_key(report_id: str) -> str:
    """The report's id as kept: itself when short and printable, else a digest of it."""
    if _PLAIN.fullmatch(report_id):
        return report_id
    return "sha256:" + hashlib.sha256(report_id.encode()).hexdigest()


class UsageAccounting:
    """Turns a conversation's usage report into what it added (the runtime reports running
    totals), kept once per report for its person and organization; what the organization
    pays for (its LLM key) is debited from its balance in the same transaction. Answers why
    billing now holds the run, if it does: the balance ran out, or the member's monthly
    cap was reached."""

    def __init__(self, policy: BudgetPolicy) -> None:
        self._policy = policy

    async def account(
        self,
        uow: UnitOfWork,
        conversation: Conversation,
        report_id: str,
        usage: Usage,
        now: datetime,
    ) -> BillingHold | None:
        reported = UsageTotals.reported(usage)
        added = reported.added_since(await uow.usage.totals(conversation.id_))
        if added is None:
            return None
        key = _report_key(report_id)
        billed = conversation.llm_payer is LlmPayer.ORG
        tenant = conversation.tenant
        kept = await uow.usage.record(
            UsageRecord(
                conversation_id=conversation.id_,
                report_id=key,
                org_id=tenant.org_id,
                user_id=tenant.user_id,
                model=_model(usage),
                usage=added,
                billed=billed,
                created_at=now,
            )
        )
        if not kept or not billed or added.cost_micros == 0:
            return None
        await uow.ledger.record(
            LedgerEntry(
                org_id=tenant.org_id,
                kind=EntryKind.USAGE,
                amount_micros=-added.cost_micros,
                source=USAGE_SOURCE,
                source_id=f"{conversation.id_}:{key}",
                created_at=now,
                user_id=tenant.user_id,
                conversation_id=conversation.id_,
                model=_model(usage),
            )
        )
        if not self._policy.enforced:
            return None
        if await uow.ledger.balance(tenant.org_id) <= 0:
            return BillingHold.FUNDS
        cap = await uow.ledger.member_cap(tenant.org_id)
        if cap is not None and (
            await uow.usage.billed_since(tenant.org_id, tenant.user_id, month_start(now)) >= cap
        ):
            return BillingHold.MEMBER_CAP
        return None
