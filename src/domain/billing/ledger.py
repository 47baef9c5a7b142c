"""What each organization paid and spent, as entries in integer micro-units of its currency
(a millionth: 1 USD is 1,000,000): the balance is their sum, never a float."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.conversations.value_objects import ConversationId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

__all__ = (
    "MICROS_PER_UNIT",
    "EntryKind",
    "LedgerEntry",
    "LedgerEntryId",
    "micros",
    "micros_text",
    "parse_amount",
)

LedgerEntryId = NewType("LedgerEntryId", UUID)

MICROS_PER_UNIT = 1_000_000
_MICRO = Decimal("0.000001")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
MAX_ABS_MICROS = 10**15
"""A billion units of currency: no single entry is larger."""


def micros(amount: Decimal | str | int | float) -> int:
    """``amount`` units of currency in micro-units, rounded half to even. A float (such as the
    running cost a runtime reports) is read by its shortest decimal form, so ``0.1`` is
    exactly 100,000; this is the one place a float becomes money."""
    try:
        exact = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    except InvalidOperation:
        raise InvalidValueError(f"{amount!r} is not an amount.", field="amount") from None
    if not exact.is_finite():
        raise InvalidValueError(f"{amount!r} is not an amount.", field="amount")
    return int(exact.quantize(_MICRO, rounding=ROUND_HALF_EVEN) * MICROS_PER_UNIT)


_PLACES_IN_WORDS = {
    0: "no decimals",
    1: "one decimal place",
    2: "two decimal places (cents)",
    6: "six decimal places (a millionth)",
}


def parse_amount(
    raw: str,
    *,
    field: str = "amount",
    places: int = 6,
    signed: bool = False,
    nonzero: bool = False,
) -> int:
    """``raw``, an amount of currency written as a decimal (``25.50``, ``-3.5`` when
    ``signed``), in micro-units: what every amount a person types is read with. At most
    ``places`` decimal places (trailing zeros aside; six is the micro-unit itself), at most
    a billion units either way, below zero only when ``signed``, and not zero when
    ``nonzero``; else ``InvalidValueError`` naming ``field`` and the rule broken. Its size is
    checked before it is scaled, so a written exponent (``1e999999999``) costs nothing."""
    if not 0 <= places <= 6:
        raise ValueError("an amount has from 0 to 6 decimal places")
    try:
        exact = Decimal(raw.strip())
    except InvalidOperation:
        exact = Decimal("NaN")
    if not exact.is_finite():
        example = "25.50 or -3.5" if signed else "25.50"
        raise InvalidValueError(f"{raw[:40]!r} is not an amount such as {example}.", field=field)
    _, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)  # finite
    significant = "".join(map(str, digits)).rstrip("0")
    if significant and exponent + len(digits) - len(significant) < -places:
        words = _PLACES_IN_WORDS.get(places, f"{places} decimal places")
        raise InvalidValueError(f"An amount has at most {words}.", field=field)
    if exact.is_signed() and not exact.is_zero() and not signed:
        raise InvalidValueError("An amount is zero or more.", field=field)
    if exact.adjusted() > 9 or exact.copy_abs() > MAX_ABS_MICROS // MICROS_PER_UNIT:
        raise InvalidValueError("An amount is at most a billion.", field=field)
    if nonzero and exact.is_zero():
        raise InvalidValueError("An amount is not zero.", field=field)
    return int(exact.scaleb(6))


def micros_text(amount_micros: int) -> str:
    """Micro-units as the exact decimal amount of currency they are (``0.750000``)."""
    return str(Decimal(amount_micros).scaleb(-6).quantize(_MICRO))


class EntryKind(StrEnum):
    PURCHASE = "purchase"
    """Credits paid for (a checkout): positive."""
    GRANT = "grant"
    """Credits given (a plan's monthly credits, a promotion): positive."""
    USAGE = "usage"
    """What agents spent: negative."""
    REFUND = "refund"
    """Money returned, or taken back by a dispute: negative."""
    ADJUSTMENT = "adjustment"
    """An operator's correction: either sign, never zero."""


_SIGN = {
    EntryKind.PURCHASE: 1,
    EntryKind.GRANT: 1,
    EntryKind.USAGE: -1,
    EntryKind.REFUND: -1,
}


def _text(value: str, name: str, limit: int) -> None:
    if len(value) > limit or not _PRINTABLE.fullmatch(value):
        raise InvalidValueError(
            f"A ledger entry's {name} is 1 to {limit} printable characters.", field=name
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One movement of an organization's balance, caused once: ``(source, source_id)`` names
    its cause (a Stripe checkout session, a usage report, an invoice), so a cause replayed
    moves the balance once."""

    org_id: OrgId
    kind: EntryKind
    amount_micros: int
    source: str
    source_id: str
    created_at: datetime
    user_id: UserId | None = None
    conversation_id: ConversationId | None = None
    model: str | None = None
    description: str = ""
    id_: LedgerEntryId = field(default_factory=lambda: LedgerEntryId(new_id()))

    def __post_init__(self) -> None:
        sign = _SIGN.get(self.kind)
        amount = self.amount_micros
        if amount == 0 or abs(amount) > MAX_ABS_MICROS:
            raise InvalidValueError(
                "A ledger entry moves the balance by a non-zero amount within a billion.",
                field="amount",
            )
        if sign is not None and (amount > 0) != (sign > 0):
            word = "positive" if sign > 0 else "negative"
            raise InvalidValueError(f"A {self.kind.value} entry is {word}.", field="amount")
        _text(self.source, "source", 40)
        _text(self.source_id, "source_id", 200)
        if self.model is not None:
            _text(self.model, "model", 200)
        if len(self.description) > 500:
            raise InvalidValueError(
                "A ledger entry's description is at most 500 characters.", field="description"
            )
