from dataclasses import dataclass

from application.billing.customers import customer_of
from application.billing.policy import BillingPolicy, billing_admin_view
from application.ports.clock import Clock
from application.ports.payment_gateway import (
    CheckoutMode,
    NewCheckout,
    PaymentGateway,
    PaymentProviderError,
)
from application.ports.unit_of_work import UnitOfWork
from domain.billing.payments import BillingNotConfiguredError
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.shared.errors import ConflictError

__all__ = ("AlreadySubscribedError", "SubscribeToPlan", "SubscribeToPlanRequest")


class AlreadySubscribedError(ConflictError):
    code = "already-subscribed"
    default_message = "The organization subscribes to the plan already; change it in the portal."


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeToPlanRequest:
    actor: Principal
    org_id: OrgId


class SubscribeToPlan:
    """Open a hosted checkout subscribing the organization to the configured plan; for its
    owner and admins. The subscription, and each paid invoice's credits, arrive with the
    provider's webhooks."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, gateway: PaymentGateway, policy: BillingPolicy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._gateway = gateway
        self._policy = policy

    async def execute(self, request: SubscribeToPlanRequest) -> str:
        """The checkout's address."""
        policy = self._policy
        policy.require_enabled()
        if policy.plan_price_id is None:
            raise BillingNotConfiguredError("No plan is offered on this server.")
        view = await billing_admin_view(self._uow, request.actor, request.org_id)
        current = await self._uow.billing.subscription(request.org_id)
        if current is not None and current.active:
            raise AlreadySubscribedError
        customer = await customer_of(self._uow, self._gateway, view)
        await self._uow.commit()
        back = f"{policy.public_url}/api/orgs/{request.org_id}/billing"
        minute = self._clock.now().strftime("%Y%m%d%H%M")
        session = await self._gateway.create_checkout(
            NewCheckout(
                mode=CheckoutMode.SUBSCRIPTION,
                customer_id=customer,
                reference=str(request.org_id),
                metadata={"org_id": str(request.org_id)},
                success_url=back,
                cancel_url=back,
                idempotency_key=f"subscribe-{request.org_id}-{minute}",
                price_id=policy.plan_price_id,
            )
        )
        if session.url is None:
            raise PaymentProviderError("The payment provider opened a checkout with no address.")
        return session.url
