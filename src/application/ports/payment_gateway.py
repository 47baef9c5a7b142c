from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from application.errors import DependencyUnavailableError

__all__ = (
    "CheckoutMode",
    "CheckoutSession",
    "NewCheckout",
    "PaymentGateway",
    "PaymentProviderError",
    "ProviderCharge",
    "ProviderRefund",
    "ProviderSubscription",
)


class PaymentProviderError(DependencyUnavailableError):
    """The payment provider did not answer, or refused what the server asked of it."""

    code = "payment-provider-unavailable"
    default_message = "The payment provider is unavailable; try again shortly."


class CheckoutMode(StrEnum):
    PAYMENT = "payment"
    """A one-off payment of an amount."""
    SUBSCRIPTION = "subscription"
    """A subscription to a recurring price."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCheckout:
    """A hosted checkout to open: of ``amount_minor`` in ``currency`` (payment mode) or of
    ``price_id`` (subscription mode), for ``customer_id``; ``reference`` and ``metadata`` come
    back with the session and its events, ``idempotency_key`` makes a retried create return the
    first session."""

    mode: CheckoutMode
    customer_id: str
    reference: str
    metadata: Mapping[str, str]
    success_url: str
    cancel_url: str
    idempotency_key: str
    amount_minor: int | None = None
    currency: str | None = None
    price_id: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutSession:
    """A checkout session as the provider reports it."""

    id_: str
    mode: CheckoutMode
    status: str
    """``open``, ``complete`` or ``expired``."""
    payment_status: str
    """``unpaid``, ``paid`` or ``no_payment_required``."""
    url: str | None
    amount_total: int | None
    """In minor units of ``currency``."""
    currency: str | None
    reference: str | None
    """Our ``client_reference_id``."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    customer_id: str | None = None
    subscription_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSubscription:
    """A subscription as the provider reports it now."""

    id_: str
    customer_id: str
    status: str
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderRefund:
    id_: str
    amount: int
    """In minor units of its charge's currency."""
    status: str
    """``pending``, ``succeeded``, ``failed`` or ``canceled``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderCharge:
    """A charge as the provider reports it now, with every refund of it."""

    id_: str
    customer_id: str | None
    amount: int
    currency: str
    refunds: tuple[ProviderRefund, ...] = ()


class PaymentGateway(Protocol):
    """The payment provider (Stripe): customers, hosted checkouts, the customer portal, and
    reading back what was paid. Every create carries an idempotency key, so a create retried
    after a lost answer makes nothing twice. Failures raise ``PaymentProviderError``."""

    @abstractmethod
    async def create_customer(self, name: str, metadata: Mapping[str, str], key: str) -> str:
        """A new customer's id; the same id again for the same ``key``."""

    @abstractmethod
    async def create_checkout(self, checkout: NewCheckout) -> CheckoutSession: ...

    @abstractmethod
    async def get_checkout(self, session_id: str) -> CheckoutSession | None:
        """The session as the provider holds it now; None when it knows no such session."""

    @abstractmethod
    async def create_portal(self, customer_id: str, return_url: str, key: str) -> str:
        """The address of a customer-portal session for ``customer_id``."""

    @abstractmethod
    async def get_subscription(self, subscription_id: str) -> ProviderSubscription | None:
        """The subscription as the provider holds it now; None when it knows none."""

    @abstractmethod
    async def get_charge(self, charge_id: str) -> ProviderCharge | None:
        """The charge as the provider holds it now, with its refunds; None when it knows none."""
