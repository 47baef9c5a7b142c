from application.billing.funds import BillingPolicy, FundsCheck, month_start
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
    "USAGE_SOURCE",
    "BillingPolicy",
    "FundsCheck",
    "SetMemberCap",
    "SetMemberCapRequest",
    "ShowMemberCap",
    "ShowMemberCapRequest",
    "ShowUsage",
    "ShowUsageRequest",
    "ShowUsageResult",
    "UsageAccounting",
    "month_start",
)
