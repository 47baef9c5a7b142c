from application.billing.buy_credits import BuyCredits, BuyCreditsRequest, BuyCreditsResult
from application.billing.fulfillment import Fulfillment
from application.billing.get_billing import GetBilling, GetBillingRequest, GetBillingResult
from application.billing.open_billing_portal import OpenBillingPortal, OpenBillingPortalRequest
from application.billing.policy import BillingPolicy, UnconfiguredPaymentGateway, credited
from application.billing.show_purchase import ShowPurchase, ShowPurchaseRequest
from application.billing.stripe_webhooks import StripeWebhooks
from application.billing.subscribe_to_plan import (
    AlreadySubscribedError,
    SubscribeToPlan,
    SubscribeToPlanRequest,
)

__all__ = (
    "AlreadySubscribedError",
    "BillingPolicy",
    "BuyCredits",
    "BuyCreditsRequest",
    "BuyCreditsResult",
    "Fulfillment",
    "GetBilling",
    "GetBillingRequest",
    "GetBillingResult",
    "OpenBillingPortal",
    "OpenBillingPortalRequest",
    "ShowPurchase",
    "ShowPurchaseRequest",
    "StripeWebhooks",
    "SubscribeToPlan",
    "SubscribeToPlanRequest",
    "UnconfiguredPaymentGateway",
    "credited",
)
