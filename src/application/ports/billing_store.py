from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.billing.payments import Purchase, PurchaseId, Subscription
from domain.organizations.entities import OrgId

__all__ = ("BillingStore",)


class BillingStore(Protocol):
    """Each organization's customer at the payment provider, its purchases and its
    subscription. Transactional: the unit of work commits."""

    @abstractmethod
    async def customer(self, org_id: OrgId) -> str | None:
        """The organization's customer id at the provider, if it has one."""

    @abstractmethod
    async def keep_customer(self, org_id: OrgId, customer_id: str) -> str:
        """Keep ``customer_id`` as the organization's unless it has one already; the one kept."""

    @abstractmethod
    async def org_of_customer(self, customer_id: str) -> OrgId | None: ...

    @abstractmethod
    async def add_purchase(self, purchase: Purchase) -> None: ...

    @abstractmethod
    async def purchase(self, purchase_id: PurchaseId) -> Purchase | None: ...

    @abstractmethod
    async def attach_checkout(self, purchase_id: PurchaseId, session_id: str) -> None:
        """Name the checkout session opened for the purchase."""

    @abstractmethod
    async def mark_paid(self, purchase_id: PurchaseId, at: datetime) -> bool:
        """Mark the purchase paid; False when it was already. A purchase marked failed is
        paid all the same (money taken is credited)."""

    @abstractmethod
    async def mark_failed(self, purchase_id: PurchaseId) -> bool:
        """Mark the pending purchase failed (its checkout could not be opened); False when it
        is not pending."""

    @abstractmethod
    async def subscription(self, org_id: OrgId) -> Subscription | None:
        """The organization's subscription the provider told of last."""

    @abstractmethod
    async def save_subscription(self, subscription: Subscription) -> bool:
        """Keep ``subscription`` unless what is kept of it came from an event as new or newer
        (``event_created``); whether it was kept. Out-of-order events never roll it back."""
