from entrypoints.http.billing.controller import BillingController

__all__ = ("BillingController",)
