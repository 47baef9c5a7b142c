from dataclasses import dataclass

from application.billing.policy import BillingPolicy, billing_admin_view
from application.ports.clock import Clock
from application.ports.payment_gateway import PaymentGateway
from application.ports.unit_of_work import UnitOfWork
from domain.billing.payments import NoBillingCustomerError
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("OpenBillingPortal", "OpenBillingPortalRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenBillingPortalRequest:
    actor: Principal
    org_id: OrgId


class OpenBillingPortal:
    """Open the provider's customer portal (invoices, payment methods, the plan) for the
    organization; for its owner and admins, once it has paid or subscribed."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, gateway: PaymentGateway, policy: BillingPolicy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._gateway = gateway
        self._policy = policy

    async def execute(self, request: OpenBillingPortalRequest) -> str:
        """The portal session's address."""
        self._policy.require_enabled()
        await billing_admin_view(self._uow, request.actor, request.org_id)
        customer = await self._uow.billing.customer(request.org_id)
        if customer is None:
            raise NoBillingCustomerError
        minute = self._clock.now().strftime("%Y%m%d%H%M")
        return await self._gateway.create_portal(
            customer,
            f"{self._policy.public_url}/api/orgs/{request.org_id}/billing",
            key=f"portal-{request.org_id}-{request.actor.user.id_}-{minute}",
        )
