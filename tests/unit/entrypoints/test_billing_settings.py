"""Billing's settings: off without a secret key, amounts in the currency with at most cents,
and each mistake named by its variable."""

from decimal import Decimal

import pytest

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
