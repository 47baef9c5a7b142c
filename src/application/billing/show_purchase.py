from dataclasses import dataclass

from application.billing.fulfillment import Fulfillment
from application.billing.policy import BillingPolicy, billing_admin_view
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.billing.payments import Purchase, PurchaseId, PurchaseNotFoundError, PurchaseStatus
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("ShowPurchase", "ShowPurchaseRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowPurchaseRequest:
    actor: Principal
    org_id: OrgId
    purchase_id: PurchaseId


class ShowPurchase:
    """A purchase of the organization, where the browser lands back from its checkout; for
    its owner and admins. A purchase not yet credited is fulfilled first, exactly as the
    provider's webhook fulfills it (the same idempotent step): this never credits on its own,
    and credits once whichever of the two comes first."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, fulfillment: Fulfillment, policy: BillingPolicy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._fulfillment = fulfillment
        self._policy = policy

    async def execute(self, request: ShowPurchaseRequest) -> Purchase:
        self._policy.require_enabled()
        await billing_admin_view(self._uow, request.actor, request.org_id)
        purchase = await self._uow.billing.purchase(request.purchase_id)
        if purchase is None or purchase.org_id != request.org_id:
            raise PurchaseNotFoundError
        session_id = purchase.checkout_session_id
        if purchase.status is PurchaseStatus.PAID or session_id is None:
            return purchase
        await self._fulfillment.checkout(self._uow, session_id, self._clock.now())
        await self._uow.commit()
        return await self._uow.billing.purchase(request.purchase_id) or purchase
