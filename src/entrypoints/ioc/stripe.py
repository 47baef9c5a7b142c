"""Billing: Stripe when its secret key is set, else a gateway that says billing is off."""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from adapters.stripe import StripePaymentGateway
from application.billing import (
    BillingPolicy,
    BuyCredits,
    Fulfillment,
    GetBilling,
    OpenBillingPortal,
    ShowPurchase,
    SubscribeToPlan,
    UnconfiguredPaymentGateway,
)
from application.ports.payment_gateway import PaymentGateway
from domain.billing.ledger import micros
from entrypoints.settings import Settings

__all__ = ("StripeProvider",)


class StripeProvider(Provider):
    scope = Scope.REQUEST
    buy_credits = provide(BuyCredits)
    subscribe = provide(SubscribeToPlan)
    open_portal = provide(OpenBillingPortal)
    get_billing = provide(GetBilling)
    show_purchase = provide(ShowPurchase)
    fulfillment = provide(Fulfillment, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> BillingPolicy:
        billing = settings.billing
        return BillingPolicy(
            enabled=billing.enabled,
            currency=billing.currency,
            min_micros=micros(billing.min_credits),
            max_micros=micros(billing.max_credits),
            public_url=settings.server.effective_public_url,
            plan_price_id=billing.plan_price_id,
            plan_credits_micros=micros(billing.plan_monthly_credits),
        )

    @provide(scope=Scope.APP)
    async def gateway(self, settings: Settings) -> AsyncIterator[PaymentGateway]:
        key = settings.billing.stripe_secret_key
        if key is None:
            yield UnconfiguredPaymentGateway()
            return
        stripe = StripePaymentGateway(key, api_base=settings.billing.stripe_api_base)
        try:
            yield stripe
        finally:
            await stripe.close()
