from pathlib import Path

import pytest

from entrypoints.settings import RuntimeKind, Settings, SettingsError


def test_the_local_agent_server_is_the_default_runtime() -> None:
    settings = Settings.from_env({})
    assert settings.runtime.kind is RuntimeKind.LOCAL
    assert settings.runtime.agent_server_venv == Path(".venv-agent-server")
    assert settings.runtime.agent_server_python is None


def test_an_external_runtime_needs_its_url_and_key() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MAESTRIST_RUNTIME": "external"})
    assert set(caught.value.problems) == {
        "MAESTRIST_AGENT_SERVER_URL",
        "MAESTRIST_AGENT_SERVER_KEY",
    }
    settings = Settings.from_env(
        {
            "MAESTRIST_RUNTIME": "External",
            "MAESTRIST_AGENT_SERVER_URL": "https://agents.internal:8000",
            "MAESTRIST_AGENT_SERVER_KEY": "k-123",
        }
    )
    assert settings.runtime.kind is RuntimeKind.EXTERNAL
    assert "k-123" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MAESTRIST_RUNTIME": "docker"}, "MAESTRIST_RUNTIME"),
        ({"MAESTRIST_AGENT_SERVER_URL": "http://127.0.0.1:9"}, "MAESTRIST_AGENT_SERVER_URL"),
        (
            {"MAESTRIST_RUNTIME": "scripted", "MAESTRIST_AGENT_SERVER_KEY": "k"},
            "MAESTRIST_AGENT_SERVER_KEY",
        ),
        (
            {
                "MAESTRIST_RUNTIME": "external",
                "MAESTRIST_AGENT_SERVER_URL": "ftp://x",
                "MAESTRIST_AGENT_SERVER_KEY": "k",
            },
            "MAESTRIST_AGENT_SERVER_URL",
        ),
        ({"MAESTRIST_AGENT_SERVER_STARTUP_TIMEOUT": "0"}, "MAESTRIST_AGENT_SERVER_STARTUP_TIMEOUT"),
    ],
)
def test_a_bad_runtime_setting_is_named(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert variable in caught.value.problems
