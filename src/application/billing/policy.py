"""What the operator configured billing to be."""

from collections.abc import Mapping
from dataclasses import dataclass

from application.members._shared import callers_view
from application.ports.org_repository import MemberOrganization
from application.ports.payment_gateway import (
    CheckoutSession,
    NewCheckout,
    PaymentGateway,
    ProviderCharge,
    ProviderSubscription,
)
from application.ports.unit_of_work import UnitOfWork
from domain.billing.payments import BillingNotConfiguredError
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.policy import check_can_manage_billing

__all__ = ("BillingPolicy", "UnconfiguredPaymentGateway", "billing_admin_view")


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingPolicy:
    """Billing as configured: ``enabled`` once a payment provider is; amounts in micro-units
    of ``currency``; ``public_url`` is where browsers come back to (never a request's Host)."""

    enabled: bool
    currency: str
    min_micros: int
    max_micros: int
    public_url: str
    plan_price_id: str | None = None
    plan_credits_micros: int = 0

    def require_enabled(self) -> None:
        if not self.enabled:
            raise BillingNotConfiguredError


class UnconfiguredPaymentGateway(PaymentGateway):
    """The gateway of a server without a payment provider: every call says billing is off."""

    async def create_customer(self, name: str, metadata: Mapping[str, str], key: str) -> str:
        raise BillingNotConfiguredError

    async def create_checkout(self, checkout: NewCheckout) -> CheckoutSession:
        raise BillingNotConfiguredError

    async def get_checkout(self, session_id: str) -> CheckoutSession | None:
        raise BillingNotConfiguredError

    async def create_portal(self, customer_id: str, return_url: str, key: str) -> str:
        raise BillingNotConfiguredError

    async def get_subscription(self, subscription_id: str) -> ProviderSubscription | None:
        raise BillingNotConfiguredError

    async def get_charge(self, charge_id: str) -> ProviderCharge | None:
        raise BillingNotConfiguredError


async def billing_admin_view(
    uow: UnitOfWork, actor: Principal, org_id: OrgId
) -> MemberOrganization:
    """The organization, for one of its owners or admins; another tenant's is not found."""
    view = await callers_view(uow.orgs, actor, org_id)
    check_can_manage_billing(view.role)
    return view
