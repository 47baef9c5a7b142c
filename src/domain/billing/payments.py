"""What an organization bought through the payment provider: purchases of credits and its plan
subscription, and the rules of amounts crossing to the provider's minor units."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.billing.ledger import MICROS_PER_UNIT
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.errors import ConflictError, DomainError, InvalidValueError, NotFoundError
from domain.shared.ids import new_id

__all__ = (
    "BillingNotConfiguredError",
    "CreditAmountError",
    "NoBillingCustomerError",
    "Purchase",
    "PurchaseId",
    "PurchaseNotFoundError",
    "PurchaseStatus",
    "Subscription",
    "micros_of_minor",
    "minor_units",
)

PurchaseId = NewType("PurchaseId", UUID)

_ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
    | {"xaf", "xof", "xpf"}
)
"""Currencies the provider counts in whole units; every other is counted in hundredths."""


def _micros_per_minor(currency: str) -> int:
    return MICROS_PER_UNIT if currency.lower() in _ZERO_DECIMAL else MICROS_PER_UNIT // 100


def minor_units(amount_micros: int, currency: str) -> int:
    """``amount_micros`` in the provider's minor units of ``currency`` (cents for USD); an
    amount that is no whole number of them is refused."""
    per_minor = _micros_per_minor(currency)
    if amount_micros % per_minor:
        raise InvalidValueError(
            f"An amount in {currency.upper()} has at most "
            f"{0 if per_minor == MICROS_PER_UNIT else 2} decimals.",
            field="amount",
        )
    return amount_micros // per_minor


def micros_of_minor(amount_minor: int, currency: str) -> int:
    """The provider's ``amount_minor`` of ``currency`` in micro-units."""
    return amount_minor * _micros_per_minor(currency)


class BillingNotConfiguredError(DomainError):
    code = "billing-not-configured"
    default_message = "Billing is not configured on this server: nothing can be bought here."


class CreditAmountError(InvalidValueError):
    code = "invalid-credit-amount"
    default_message = "The amount of credits is outside what may be bought at once."


class PurchaseNotFoundError(NotFoundError):
    code = "purchase-not-found"
    default_message = "No purchase of this organization has this id."


class NoBillingCustomerError(ConflictError):
    code = "no-billing-customer"
    default_message = (
        "The organization has paid nothing yet: buy credits or subscribe before opening the "
        "billing portal."
    )


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    """Its checkout was opened (or is being opened); nothing was paid yet."""
    PAID = "paid"
    """Paid and credited, once."""
    FAILED = "failed"
    """The provider would not open its checkout: nothing can be paid on it (buying again
    makes a new purchase)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Purchase:
    """Credits an organization admin set out to buy; kept before the provider hears of it, so
    its id names the checkout (reference, idempotency key) and the credit it leads to."""

    org_id: OrgId
    user_id: UserId
    amount_micros: int
    currency: str
    created_at: datetime
    checkout_session_id: str | None = None
    status: PurchaseStatus = PurchaseStatus.PENDING
    paid_at: datetime | None = None
    id_: PurchaseId = field(default_factory=lambda: PurchaseId(new_id()))

    def __post_init__(self) -> None:
        if self.amount_micros <= 0:
            raise CreditAmountError("A purchase is of a positive amount.", field="amount")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidValueError("A currency is three letters (ISO 4217).", field="currency")

    @classmethod
    def start(
        cls, *, org_id: OrgId, user_id: UserId, amount_micros: int, currency: str, now: datetime
    ) -> "Purchase":
        return cls(
            org_id=org_id,
            user_id=user_id,
            amount_micros=amount_micros,
            currency=currency.lower(),
            created_at=now,
        )

    def with_checkout(self, session_id: str) -> "Purchase":
        return replace(self, checkout_session_id=session_id)

    def paid(self, now: datetime) -> "Purchase":
        return replace(self, status=PurchaseStatus.PAID, paid_at=now)

    def failed(self) -> "Purchase":
        return replace(self, status=PurchaseStatus.FAILED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """An organization's plan subscription as the provider last told it; ``event_created``
    is when the provider made the event it was read for, so an older event never rolls a
    newer state back."""

    subscription_id: str
    org_id: OrgId
    customer_id: str
    status: str
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    event_created: datetime

    @property
    def active(self) -> bool:
        return self.status in {"active", "trialing", "past_due"}
