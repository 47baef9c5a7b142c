from application.billing.funds import BillingPolicy, FundsCheck, month_start
from application.billing.top_ups import (
    OPERATOR_SOURCE,
    RESUME_HELD_JOB,
    AdjustBalance,
    AdjustBalanceRequest,
    AdjustBalanceResult,
    ShowBalance,
    ShowBalanceResult,
    credited,
)
from application.billing.usage_accounting import USAGE_SOURCE, UsageAccounting
from application.billing.usage_views import (
    MAX_USAGE_DAYS,
    SetMemberCap,
    SetMemberCapRequest,
    ShowMemberCap,
    ShowMemberCapRequest,
    ShowUsage,
    ShowUsageRequest,
    ShowUsageResult,
)

__all__ = (
    "MAX_USAGE_DAYS",
    "OPERATOR_SOURCE",
    "RESUME_HELD_JOB",
    "USAGE_SOURCE",
    "AdjustBalance",
    "AdjustBalanceRequest",
    "AdjustBalanceResult",
    "BillingPolicy",
    "FundsCheck",
    "SetMemberCap",
    "SetMemberCapRequest",
    "ShowBalance",
    "ShowBalanceResult",
    "ShowMemberCap",
    "ShowMemberCapRequest",
    "ShowUsage",
    "ShowUsageRequest",
    "ShowUsageResult",
    "UsageAccounting",
    "credited",
    "month_start",
)
