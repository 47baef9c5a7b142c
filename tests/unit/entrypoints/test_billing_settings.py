"""Billing's settings: off without a secret key, amounts in the currency with at most cents,
and each mistake named by its variable."""

import contextlib
import io
from decimal import Decimal

import pytest

from entrypoints.cli.main import build_parser
from entrypoints.settings import Settings, SettingsError

STRIPE = {
    "MAESTRIST_STRIPE_SECRET_KEY": "sk_test_123",
    "MAESTRIST_STRIPE_WEBHOOK_SECRETS": "whsec_new_secret_value,whsec_old_secret_value",
}


def test_billing_is_off_until_a_secret_key_is_set() -> None:
    assert not Settings.from_env({}).billing.enabled
    settings = Settings.from_env(
        {
            **STRIPE,
            "MAESTRIST_STRIPE_API_BASE": "http://127.0.0.1:8420",
            "MAESTRIST_BILLING_CURRENCY": "EUR",
            "MAESTRIST_BILLING_MIN_CREDITS": "10",
            "MAESTRIST_BILLING_MAX_CREDITS": "250.50",
            "MAESTRIST_STRIPE_PLAN_PRICE": "price_123",
            "MAESTRIST_BILLING_PLAN_CREDITS": "20",
        }
    )
    billing = settings.billing
    assert billing.enabled
    assert billing.stripe_webhook_secrets == ("whsec_new_secret_value", "whsec_old_secret_value")
    assert (billing.currency, billing.min_credits, billing.max_credits) == (
        "eur",
        Decimal(10),
        Decimal("250.50"),
    )
    assert (billing.plan_price_id, billing.plan_monthly_credits) == ("price_123", Decimal(20))
    assert "sk_test_123" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MAESTRIST_STRIPE_SECRET_KEY": "pk_test_123"}, "MAESTRIST_STRIPE_SECRET_KEY"),
        (
            {"MAESTRIST_STRIPE_WEBHOOK_SECRETS": "whsec_a_long_secret"},
            "MAESTRIST_STRIPE_WEBHOOK_SECRETS",
        ),
        ({**STRIPE, "MAESTRIST_STRIPE_PLAN_PRICE": "plan_1"}, "MAESTRIST_STRIPE_PLAN_PRICE"),
        ({"MAESTRIST_STRIPE_PLAN_PRICE": "price_1"}, "MAESTRIST_STRIPE_PLAN_PRICE"),
        ({**STRIPE, "MAESTRIST_BILLING_CURRENCY": "dollars"}, "MAESTRIST_BILLING_CURRENCY"),
        ({**STRIPE, "MAESTRIST_BILLING_MIN_CREDITS": "5.001"}, "MAESTRIST_BILLING_MIN_CREDITS"),
        ({**STRIPE, "MAESTRIST_BILLING_MAX_CREDITS": "lots"}, "MAESTRIST_BILLING_MAX_CREDITS"),
        ({**STRIPE, "MAESTRIST_BILLING_MIN_CREDITS": "0"}, "MAESTRIST_BILLING_MIN_CREDITS"),
        (
            {
                **STRIPE,
                "MAESTRIST_BILLING_MIN_CREDITS": "50",
                "MAESTRIST_BILLING_MAX_CREDITS": "20",
            },
            "MAESTRIST_BILLING_MIN_CREDITS",
        ),
        ({**STRIPE, "MAESTRIST_STRIPE_API_BASE": "ftp://x"}, "MAESTRIST_STRIPE_API_BASE"),
    ],
)
def test_a_bad_billing_setting_is_named(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert variable in raised.value.problems


def _cli_error(*words: str) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        build_parser().parse_args(list(words))
    return err.getvalue()


def test_the_cli_and_the_settings_read_amounts_with_the_same_parser() -> None:
    org = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    adjusted = build_parser().parse_args(["billing", "adjust", org, "-3.5", "refund"])
    assert adjusted.amount == -3_500_000
    assert "not zero" in _cli_error("billing", "adjust", org, "0", "nothing")
    assert "at most a billion" in _cli_error("billing", "adjust", org, "1e999999999", "huge")
    env = {"MAESTRIST_BILLING_MIN_BALANCE": "2.5"}
    assert Settings.from_env(env).billing.min_balance_micros == 2_500_000
    for bad in ("1.0000001", "-1", "1e999999999"):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({"MAESTRIST_BILLING_MIN_BALANCE": bad})
        assert "MAESTRIST_BILLING_MIN_BALANCE" in raised.value.problems
