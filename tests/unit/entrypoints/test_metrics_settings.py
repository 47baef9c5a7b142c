"""The metrics settings: a token turns ``/metrics`` on; a worker's own port needs the token and
is a port."""

import pytest

from entrypoints.settings import Settings, SettingsError

TOKEN = "a-scraper-token-0123456789"


def test_a_worker_port_is_read_with_the_token() -> None:
    metrics = Settings.from_env(
        {"MAESTRIST_METRICS_TOKEN": TOKEN, "MAESTRIST_WORKER_METRICS_PORT": "9464"}
    ).metrics
    assert (metrics.enabled, metrics.worker_port) == (True, 9464)
    assert Settings.from_env({}).metrics.worker_port is None


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"MAESTRIST_WORKER_METRICS_PORT": "9464"}, "needs MAESTRIST_METRICS_TOKEN"),
        (
            {"MAESTRIST_METRICS_TOKEN": TOKEN, "MAESTRIST_WORKER_METRICS_PORT": "70000"},
            "expected 1 to 65535",
        ),
    ],
)
def test_a_bad_worker_port_is_named(env: dict[str, str], why: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert why in raised.value.problems["MAESTRIST_WORKER_METRICS_PORT"]
