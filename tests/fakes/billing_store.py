from dataclasses import replace
from datetime import datetime

from application.ports.billing_store import BillingStore
from domain.billing.payments import Purchase, PurchaseId, PurchaseStatus, Subscription
from domain.organizations.entities import OrgId
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeBillingStore",)


class FakeBillingStore(BillingStore):
    """Customers, purchases and subscriptions over the ``FakeStore``; a row another open
    transaction changed is waited for, as SQL waits for its row lock."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    async def customer(self, org_id: OrgId) -> str | None:
        return self._store.live.billing_customers.get(org_id)

    async def keep_customer(self, org_id: OrgId, customer_id: str) -> str:
        await self._locks.hold(("billing_customer", org_id))
        return self._store.live.billing_customers.setdefault(org_id, customer_id)

    async def org_of_customer(self, customer_id: str) -> OrgId | None:
        found = self._store.live.billing_customers.items()
        return next((org for org, kept in found if kept == customer_id), None)

    async def add_purchase(self, purchase: Purchase) -> None:
        self._store.live.purchases[purchase.id_] = purchase

    async def purchase(self, purchase_id: PurchaseId) -> Purchase | None:
        return self._store.live.purchases.get(purchase_id)

    async def attach_checkout(self, purchase_id: PurchaseId, session_id: str) -> None:
        await self._locks.hold(("purchase", purchase_id))
        kept = self._store.live.purchases.get(purchase_id)
        if kept is not None:
            self._store.live.purchases[purchase_id] = replace(kept, checkout_session_id=session_id)

    async def mark_paid(self, purchase_id: PurchaseId, at: datetime) -> bool:
        await self._locks.hold(("purchase", purchase_id))
        kept = self._store.live.purchases.get(purchase_id)
        if kept is None or kept.status is PurchaseStatus.PAID:
            return False
        self._store.live.purchases[purchase_id] = kept.paid(at)
        return True

    async def mark_failed(self, purchase_id: PurchaseId) -> bool:
        await self._locks.hold(("purchase", purchase_id))
        kept = self._store.live.purchases.get(purchase_id)
        if kept is None or kept.status is not PurchaseStatus.PENDING:
            return False
        self._store.live.purchases[purchase_id] = kept.failed()
        return True

    async def subscription(self, org_id: OrgId) -> Subscription | None:
        found = [s for s in self._store.live.subscriptions.values() if s.org_id == org_id]
        return max(found, key=lambda s: s.event_created, default=None)

    async def save_subscription(self, subscription: Subscription) -> bool:
        await self._locks.hold(("subscription", subscription.subscription_id))
        kept = self._store.live.subscriptions.get(subscription.subscription_id)
        if kept is not None and kept.event_created >= subscription.event_created:
            return False
        self._store.live.subscriptions[subscription.subscription_id] = subscription
        return True
