"""The analytics settings: experiments as ``name=default`` pairs, the secret key only with a
project key, and neither the secret nor anything else private in a repr or the summary."""

import pytest

from domain.experiments.assignments import Experiment
from entrypoints.cli.summary import describe
from entrypoints.settings import Settings, SettingsError

SECRET = "phs_not_to_be_shown_anywhere"


def test_experiments_are_read_in_order_with_their_defaults() -> None:
    settings = Settings.from_env({"MAESTRIST_EXPERIMENTS": " prompt = long ,condenser=off"})
    assert settings.analytics.experiments == (
        Experiment(name="prompt", default="long"),
        Experiment(name="condenser", default="off"),
    )
    assert Settings.from_env({}).analytics.experiments == ()


@pytest.mark.parametrize(
    "raw",
    ["prompt", "prompt=", "=long", "prompt=long,prompt=short", "a b=c", "x=" + "v" * 101],
)
def test_a_malformed_experiment_list_is_named(raw: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"MAESTRIST_EXPERIMENTS": raw})
    assert set(refused.value.problems) == {"MAESTRIST_EXPERIMENTS"}


def test_the_secret_key_needs_the_project_key() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"MAESTRIST_POSTHOG_SECRET_KEY": SECRET})
    assert set(refused.value.problems) == {"MAESTRIST_POSTHOG_SECRET_KEY"}


@pytest.mark.parametrize("raw", ["0.5", "3601", "soon"])
def test_a_poll_interval_out_of_range_is_named(raw: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"MAESTRIST_POSTHOG_POLL_INTERVAL": raw})
    assert set(refused.value.problems) == {"MAESTRIST_POSTHOG_POLL_INTERVAL"}


def test_the_secret_key_is_in_no_repr_and_no_summary() -> None:
    settings = Settings.from_env(
        {
            "MAESTRIST_POSTHOG_KEY": "phc_project",
            "MAESTRIST_POSTHOG_SECRET_KEY": SECRET,
            "MAESTRIST_POSTHOG_HOST": "https://posthog.internal:8443",
            "MAESTRIST_EXPERIMENTS": "prompt=standard",
        }
    )
    assert settings.analytics.enabled
    assert SECRET not in repr(settings)
    summary = "\n".join(describe(settings))
    assert SECRET not in summary
    assert (
        "analytics: PostHog at https://posthog.internal:8443, consenting people only, flags "
        "evaluated here; experiments: prompt (default standard)"
    ) in summary
    assert "analytics: none sent; experiments: none" in describe(Settings.from_env({}))
