from dataclasses import dataclass

from application.billing.policy import BillingPolicy, billing_admin_view
from application.ports.unit_of_work import UnitOfWork
from domain.billing.ledger import LedgerEntry
from domain.billing.payments import Subscription
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("GetBilling", "GetBillingRequest", "GetBillingResult")

MAX_ENTRIES = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class GetBillingRequest:
    actor: Principal
    org_id: OrgId
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class GetBillingResult:
    balance_micros: int
    currency: str
    billing_enabled: bool
    subscription: Subscription | None
    entries: list[LedgerEntry]


class GetBilling:
    """The organization's balance, its plan subscription and its newest ledger entries; for
    its owner and admins. Answers with billing off too: usage is recorded either way."""

    def __init__(self, uow: UnitOfWork, policy: BillingPolicy) -> None:
        self._uow = uow
        self._policy = policy

    async def execute(self, request: GetBillingRequest) -> GetBillingResult:
        await billing_admin_view(self._uow, request.actor, request.org_id)
        limit = max(1, min(request.limit, MAX_ENTRIES))
        return GetBillingResult(
            balance_micros=await self._uow.ledger.balance(request.org_id),
            currency=self._policy.currency,
            billing_enabled=self._policy.enabled,
            subscription=await self._uow.billing.subscription(request.org_id),
            entries=await self._uow.ledger.entries(request.org_id, limit),
        )
