"""Billing: what it enforces, the check before an organization's agents work, the accounting
of their usage, and the resumption of conversations held until a top-up."""

from dishka import Provider, Scope, provide

from application.billing import (
    AdjustBalance,
    BudgetPolicy,
    FundsCheck,
    SetMemberCap,
    ShowBalance,
    ShowMemberCap,
    ShowUsage,
    UsageAccounting,
)
from application.conversations import ResumeHeldConversation
from entrypoints.settings import Settings

__all__ = ("BillingProvider",)


class BillingProvider(Provider):
    scope = Scope.REQUEST
    resume_held = provide(ResumeHeldConversation)
    show_usage = provide(ShowUsage)
    set_member_cap = provide(SetMemberCap)
    show_member_cap = provide(ShowMemberCap)
    adjust_balance = provide(AdjustBalance)
    show_balance = provide(ShowBalance)
    funds = provide(FundsCheck, scope=Scope.APP)
    accounting = provide(UsageAccounting, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def budgets(self, settings: Settings) -> BudgetPolicy:
        billing = settings.billing
        return BudgetPolicy(
            enforced=billing.budgets_enforced,
            min_balance_micros=billing.min_balance_micros,
            currency=billing.currency.upper(),
        )
