from dataclasses import dataclass
from datetime import UTC, datetime

from application.ports.unit_of_work import UnitOfWork
from domain.billing.holds import InsufficientFundsError, MemberCapReachedError
from domain.billing.usage import LlmPayer
from domain.conversations.entities import Tenant

__all__ = ("BudgetPolicy", "FundsCheck", "month_start")


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetPolicy:
    """What budgets enforce. Not ``enforced`` (by default, no payment provider configured),
    usage is recorded and organizations' agents are never refused or paused for money."""

    enforced: bool = False
    min_balance_micros: int = 1_000_000
    """What an organization's balance must reach for its agents to start or go on."""
    currency: str = "USD"
    """As people read it (upper case)."""


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s calendar month, UTC."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


class FundsCheck:
    """Before an agent works at an organization's expense (a start, a resume, a message):
    the organization's balance must reach the minimum and the member must be within the
    monthly cap the organization set. Work a person pays for (their own LLM key) passes."""

    def __init__(self, policy: BudgetPolicy) -> None:
        self._policy = policy

    async def check(
        self, uow: UnitOfWork, tenant: Tenant, payer: LlmPayer | None, now: datetime
    ) -> None:
        """Raises ``InsufficientFundsError`` or ``MemberCapReachedError`` (both 402)."""
        if not self._policy.enforced or payer is not LlmPayer.ORG:
            return
        balance = await uow.ledger.balance(tenant.org_id)
        if balance < max(self._policy.min_balance_micros, 1):
            raise InsufficientFundsError(
                balance_micros=balance,
                minimum_micros=max(self._policy.min_balance_micros, 1),
                currency=self._policy.currency,
            )
        await self.check_cap(uow, tenant, now)

    async def check_cap(self, uow: UnitOfWork, tenant: Tenant, now: datetime) -> None:
        cap = await uow.ledger.member_cap(tenant.org_id)
        if cap is None:
            return
        spent = await uow.usage.billed_since(tenant.org_id, tenant.user_id, month_start(now))
        if spent >= cap:
            raise MemberCapReachedError(
                spent_micros=spent, cap_micros=cap, currency=self._policy.currency
            )
