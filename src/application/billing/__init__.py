from application.billing.funds import BillingPolicy, FundsCheck, month_start
from application.billing.usage_accounting import USAGE_SOURCE, UsageAccounting

__all__ = (
    "USAGE_SOURCE",
    "BillingPolicy",
    "FundsCheck",
    "UsageAccounting",
    "month_start",
)
