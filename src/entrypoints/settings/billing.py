"""What billing enforces: the balance an organization needs for its agents to work, and the
currency its ledger counts in. Usage is recorded whether or not billing is enforced."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from entrypoints.settings.fields import Section, setting
from entrypoints.settings.parsers import boolean

__all__ = ("BillingSettings", "amount_micros", "currency_code")

_MICROS = Decimal(1_000_000)


def amount_micros(raw: str) -> int:
    """A non-negative amount of currency (``1.50``) in micro-units."""
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError("expected an amount such as 1.50") from None
    if not amount.is_finite() or amount < 0 or amount > 10**9:
        raise ValueError("expected an amount from 0 to 1,000,000,000")
    return int(amount * _MICROS)


def currency_code(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", raw.strip()):
        raise ValueError("expected a three-letter ISO 4217 currency code such as USD")
    return raw.strip().upper()


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingSettings(Section):
    enforced: bool | None = setting(
        "MAESTRIST_BILLING_ENFORCED",
        "Whether agents paid by an organization (its LLM key) work only while its balance "
        "lasts: a start or a message is refused with 402 below the minimum balance, and a run "
        "that spends the balance is paused until a top-up. Unset: enforced when Stripe is "
        "configured. Usage is recorded either way.",
        boolean,
        shown="enforced when Stripe is configured",
        default=None,
    )
    min_balance_micros: int = setting(
        "MAESTRIST_BILLING_MIN_BALANCE",
        "The balance an organization needs, in its currency, for one of its members to start "
        "or go on with a conversation it pays for, while billing is enforced.",
        amount_micros,
        shown="1.00",
        default=1_000_000,
    )
    currency: str = setting(
        "MAESTRIST_BILLING_CURRENCY",
        "The currency the ledger counts in (ISO 4217).",
        currency_code,
        default="USD",
    )
