from application.billing.buy_credits import BuyCredits, BuyCreditsRequest, BuyCreditsResult
from application.billing.fulfillment import Fulfillment
from application.billing.funds import BudgetPolicy, FundsCheck, month_start
from application.billing.get_billing import GetBilling, GetBillingRequest, GetBillingResult
from application.billing.open_billing_portal import OpenBillingPortal, OpenBillingPortalRequest
from application.billing.policy import BillingPolicy, UnconfiguredPaymentGateway
from application.billing.show_purchase import ShowPurchase, ShowPurchaseRequest
from application.billing.stripe_webhooks import StripeWebhooks
from application.billing.subscribe_to_plan import (
    AlreadySubscribedError,
    SubscribeToPlan,
    SubscribeToPlanRequest,
)
from application.billing.top_ups import (
    OPERATOR_SOURCE,
    RESUME_HELD_JOB,
    AdjustBalance,
    AdjustBalanceRequest,
    AdjustBalanceResult,
    ShowBalance,
    ShowBalanceResult,
    credited,
    resume_when_credited,
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
    "AlreadySubscribedError",
    "BillingPolicy",
    "BudgetPolicy",
    "BuyCredits",
    "BuyCreditsRequest",
    "BuyCreditsResult",
    "Fulfillment",
    "FundsCheck",
    "GetBilling",
    "GetBillingRequest",
    "GetBillingResult",
    "OpenBillingPortal",
    "OpenBillingPortalRequest",
    "SetMemberCap",
    "SetMemberCapRequest",
    "ShowBalance",
    "ShowBalanceResult",
    "ShowMemberCap",
    "ShowMemberCapRequest",
    "ShowPurchase",
    "ShowPurchaseRequest",
    "ShowUsage",
    "ShowUsageRequest",
    "ShowUsageResult",
    "StripeWebhooks",
    "SubscribeToPlan",
    "SubscribeToPlanRequest",
    "UnconfiguredPaymentGateway",
    "UsageAccounting",
    "credited",
    "month_start",
    "resume_when_credited",
)
