from adapters.stripe.gateway import StripePaymentGateway

__all__ = ("StripePaymentGateway",)
