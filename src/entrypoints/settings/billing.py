"""Billing through Stripe: off (no route sells anything) until a secret key is set; and what
budgets enforce: the balance an organization needs for its agents to work. Usage is recorded
whether or not either is on."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from domain.billing.ledger import parse_amount
from domain.shared.errors import InvalidValueError
from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import boolean, printable, url
from entrypoints.settings.webhooks import secrets_list

__all__ = ("BillingSettings", "amount_micros")


def _amount(raw: str) -> Decimal:
    """A non-negative amount of currency with at most cents (``12.50``), as written."""
    amount_micros(raw, places=2)
    return Decimal(raw.strip())


def amount_micros(raw: str, places: int = 6) -> int:
    """A non-negative amount of currency (``1.50``) in micro-units."""
    try:
        return parse_amount(raw, places=places)
    except InvalidValueError as exc:
        raise ValueError(exc.message) from None


def _currency(raw: str) -> str:
    if len(raw) != 3 or not raw.isalpha() or not raw.isascii():
        raise ValueError("expected a three-letter ISO 4217 currency code such as usd")
    return raw.lower()


def _stripe_id(prefix: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        printable(200)(raw)
        if not raw.startswith(prefix) or " " in raw:
            raise ValueError(f"expected a Stripe id starting with {prefix}")
        return raw

    return parse


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingSettings(Section):
    """Credits bought through Stripe Checkout, a plan subscription, and Stripe's webhooks."""

    stripe_secret_key: str | None = setting(
        "MAESTRIST_STRIPE_SECRET_KEY",
        "Stripe secret API key (`sk_live_...`, or `sk_test_...`). Unset: billing is off and "
        "its routes answer 404 `billing-not-configured`; usage is still recorded.",
        _stripe_id("sk_"),
        shown="",
        default=None,
        secret=True,
    )
    stripe_webhook_secrets: tuple[str, ...] | None = setting(
        "MAESTRIST_STRIPE_WEBHOOK_SECRETS",
        "Signing secret of the Stripe webhook endpoint delivering to `/api/webhooks/stripe` "
        "(`whsec_...`); while rotating, the new and the old separated by a comma. Unset: that "
        "address answers 404, and nothing bought is credited.",
        secrets_list,
        shown="",
        default=None,
        secret=True,
    )
    stripe_api_base: str | None = setting(
        "MAESTRIST_STRIPE_API_BASE",
        "Where Stripe's API is reached; unset, Stripe's own. For a Stripe stand-in in tests.",
        url("http", "https"),
        default=None,
    )
    currency: str = setting(
        "MAESTRIST_BILLING_CURRENCY",
        "Currency credits are sold and counted in (ISO 4217, lower case).",
        _currency,
        default="usd",
    )
    min_credits: Decimal = setting(
        "MAESTRIST_BILLING_MIN_CREDITS",
        "Smallest amount of credits, in the currency, one checkout buys.",
        _amount,
        default=Decimal(5),
    )
    max_credits: Decimal = setting(
        "MAESTRIST_BILLING_MAX_CREDITS",
        "Largest amount of credits, in the currency, one checkout buys.",
        _amount,
        default=Decimal(1000),
    )
    plan_price_id: str | None = setting(
        "MAESTRIST_STRIPE_PLAN_PRICE",
        "Stripe price id (`price_...`) of the monthly plan organizations subscribe to. Unset: "
        "no plan is offered.",
        _stripe_id("price_"),
        default=None,
    )
    plan_monthly_credits: Decimal = setting(
        "MAESTRIST_BILLING_PLAN_CREDITS",
        "Credits, in the currency, granted for each paid invoice of the plan.",
        _amount,
        default=Decimal(0),
    )

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

    @property
    def enabled(self) -> bool:
        return self.stripe_secret_key is not None

    @property
    def budgets_enforced(self) -> bool:
        return self.enabled if self.enforced is None else self.enforced

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        found: dict[str, str] = {}
        if not 0 < self.min_credits <= self.max_credits:
            found["MAESTRIST_BILLING_MIN_CREDITS"] = (
                "must be above zero and at most MAESTRIST_BILLING_MAX_CREDITS"
            )
        if self.stripe_webhook_secrets is not None and not self.enabled:
            found["MAESTRIST_STRIPE_WEBHOOK_SECRETS"] = "needs MAESTRIST_STRIPE_SECRET_KEY"
        if self.plan_price_id is not None and not self.enabled:
            found["MAESTRIST_STRIPE_PLAN_PRICE"] = "needs MAESTRIST_STRIPE_SECRET_KEY"
        return found
