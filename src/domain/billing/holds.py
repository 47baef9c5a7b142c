"""Why billing holds a conversation paused, and the refusals that keep work from starting
when an organization's money runs out."""

from enum import StrEnum

from domain.billing.ledger import MICROS_PER_UNIT
from domain.shared.errors import DomainError

__all__ = (
    "BillingHold",
    "InsufficientFundsError",
    "MemberCapReachedError",
    "PaymentRequiredError",
    "amount_text",
    "hold_reason",
)


class BillingHold(StrEnum):
    """Why billing paused a running conversation."""

    FUNDS = "funds"
    """Its usage took the organization's balance to zero: it resumes after a top-up."""
    MEMBER_CAP = "member-cap"
    """Its owner reached the monthly cap the organization set on each member's spending."""


def amount_text(amount_micros: int, currency: str) -> str:
    """``12.34 USD``: micro-units shown to the cent, rounded toward zero."""
    sign = "-" if amount_micros < 0 else ""
    cents = abs(amount_micros) // (MICROS_PER_UNIT // 100)
    return f"{sign}{cents // 100}.{cents % 100:02d} {currency}"


_TOP_UP = (
    "An owner or admin of the organization tops it up with "
    "POST /api/orgs/{org_id}/billing/checkout."
)


def hold_reason(hold: BillingHold) -> str:
    """What a conversation billing paused says in its status."""
    if hold is BillingHold.FUNDS:
        return (
            "Paused: the organization's balance ran out. It resumes once the balance is topped "
            "up. " + _TOP_UP
        )
    return (
        "Paused: you reached this month's spending cap the organization set for each member. "
        "An owner or admin can raise it; it resets on the first of the month (UTC)."
    )


class PaymentRequiredError(DomainError):
    """Work refused until someone pays: answered 402."""

    code = "payment-required"


class InsufficientFundsError(PaymentRequiredError):
    code = "insufficient-funds"

    def __init__(self, *, balance_micros: int, minimum_micros: int, currency: str) -> None:
        super().__init__(
            f"The organization's balance is {amount_text(balance_micros, currency)}, below the "
            f"{amount_text(minimum_micros, currency)} an agent needs to start or go on. {_TOP_UP}"
        )
        self.balance_micros = balance_micros
        self.minimum_micros = minimum_micros


class MemberCapReachedError(PaymentRequiredError):
    code = "member-monthly-cap-reached"

    def __init__(self, *, spent_micros: int, cap_micros: int, currency: str) -> None:
        super().__init__(
            f"You spent {amount_text(spent_micros, currency)} of the organization's money this "
            f"month, its cap for each member being {amount_text(cap_micros, currency)}. An "
            "owner or admin can raise the cap; it resets on the first of the month (UTC)."
        )
        self.spent_micros = spent_micros
        self.cap_micros = cap_micros
