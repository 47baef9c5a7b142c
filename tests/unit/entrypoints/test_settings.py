from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.settings import Binding, LogFormat, Settings, SettingsError

PG = "postgresql+asyncpg://app:secret@db.internal:5432/maestrist"
KEYS = {
    "MAESTRIST_ENCRYPTION_KEYS": "e1:" + "A" * 43,
    "MAESTRIST_SIGNING_KEYS": "s1:" + "B" * 43,
}
CLUSTERED = {
    "MAESTRIST_BINDING": "clustered",
    "MAESTRIST_DATABASE_URL": PG,
    "MAESTRIST_REDIS_URL": "redis://cache:6379/2",
    **KEYS,
}


def test_nothing_configured_means_embedded_in_the_xdg_data_dir() -> None:
    settings = Settings.from_env({"XDG_DATA_HOME": "/srv/data"})
    assert settings.binding is Binding.EMBEDDED
    assert settings.data_dir == Path("/srv/data/maestrist")
    assert settings.effective_database_url == "sqlite+aiosqlite:////srv/data/maestrist/maestrist.db"
    assert (settings.server.host, settings.server.port, settings.server.workers) == (
        "127.0.0.1",
        8000,
        1,
    )


def test_clustered_reads_every_variable() -> None:
    settings = Settings.from_env(
        {
            "MAESTRIST_BINDING": "Clustered",
            "MAESTRIST_DATABASE_URL": PG,
            "MAESTRIST_REDIS_URL": "redis://cache:6379/2",
            "MAESTRIST_WORKERS": "4",
            "MAESTRIST_CORS_ORIGINS": "https://a.example.com, http://localhost:5173/",
            "MAESTRIST_ACCESS_LOG": "off",
            "MAESTRIST_LOG_FORMAT": "console",
            "MAESTRIST_LOG_LEVEL": "debug",
            "MAESTRIST_DEPENDENCY_TIMEOUT": "0.5",
            "MAESTRIST_DB_POOL_SIZE": "20",
            "MAESTRIST_DB_POOL_TIMEOUT": "45",
            **KEYS,
        }
    )
    assert settings.binding is Binding.CLUSTERED
    assert settings.effective_database_url == PG
    assert settings.database.url == PG
    assert settings.redis.url == "redis://cache:6379/2"
    assert settings.server.workers == 4
    assert settings.server.cors_origins == ("https://a.example.com", "http://localhost:5173")
    assert settings.server.access_log is False
    assert settings.server.log_format is LogFormat.CONSOLE
    assert settings.server.log_level == "DEBUG"
    assert settings.dependency_timeout_s == 0.5
    assert settings.database.pool_size == 20
    assert settings.database.pool_timeout_s == 45.0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MAESTRIST_PORT": "http"}, {"MAESTRIST_PORT"}),
        ({"MAESTRIST_PORT": "70000"}, {"MAESTRIST_PORT"}),
        ({"MAESTRIST_BINDING": "cloud"}, {"MAESTRIST_BINDING"}),
        (
            {"MAESTRIST_BINDING": "clustered"},
            {
                "MAESTRIST_DATABASE_URL",
                "MAESTRIST_REDIS_URL",
                "MAESTRIST_ENCRYPTION_KEYS",
                "MAESTRIST_SIGNING_KEYS",
            },
        ),
        (
            {"MAESTRIST_BINDING": "clustered", "MAESTRIST_DATABASE_URL": "sqlite:///x.db", **KEYS},
            {"MAESTRIST_DATABASE_URL", "MAESTRIST_REDIS_URL"},
        ),
        (
            {**CLUSTERED, "MAESTRIST_SIGNING_KEYS": KEYS["MAESTRIST_ENCRYPTION_KEYS"]},
            {"MAESTRIST_SIGNING_KEYS"},
        ),
        ({**CLUSTERED, "MAESTRIST_SIGNING_KEYS": "k1:short"}, {"MAESTRIST_SIGNING_KEYS"}),
        ({"MAESTRIST_RUNTIME_CREDENTIAL_TTL": "5"}, {"MAESTRIST_RUNTIME_CREDENTIAL_TTL"}),
        ({"MAESTRIST_MAX_CONNECTIONS": "0"}, {"MAESTRIST_MAX_CONNECTIONS"}),
        ({"MAESTRIST_BACKLOG": "16"}, {"MAESTRIST_BACKLOG"}),
        ({"MAESTRIST_KEEP_ALIVE_TIMEOUT": "-1"}, {"MAESTRIST_KEEP_ALIVE_TIMEOUT"}),
        ({"MAESTRIST_DATA_DIR": "~no-such-user-here/x"}, {"MAESTRIST_DATA_DIR"}),
        (
            {"MAESTRIST_GIT_SELF_HOSTED_URLS": "ftp://ghe.example.com"},
            {"MAESTRIST_GIT_SELF_HOSTED_URLS"},
        ),
        (
            {"MAESTRIST_GIT_SELF_HOSTED_URLS": "https://u:p@ghe.example.com"},
            {"MAESTRIST_GIT_SELF_HOSTED_URLS"},
        ),
        ({"MAESTRIST_DATABASE_URL": PG}, {"MAESTRIST_DATABASE_URL"}),
        ({"MAESTRIST_WORKERS": "2"}, {"MAESTRIST_WORKERS"}),
        ({"MAESTRIST_ACCESS_LOG": "maybe"}, {"MAESTRIST_ACCESS_LOG"}),
        ({"MAESTRIST_CORS_ORIGINS": "example.com"}, {"MAESTRIST_CORS_ORIGINS"}),
        ({"MAESTRIST_DEPENDENCY_TIMEOUT": "-1"}, {"MAESTRIST_DEPENDENCY_TIMEOUT"}),
        ({"MAESTRIST_DB_POOL_TIMEOUT": "0"}, {"MAESTRIST_DB_POOL_TIMEOUT"}),
        ({"MAESTRIST_LOCAL_USER_EMAIL": "nope"}, {"MAESTRIST_LOCAL_USER_EMAIL"}),
        ({"MAESTRIST_LOCAL_USER_NAME": "x" * 201}, {"MAESTRIST_LOCAL_USER_NAME"}),
        (
            {"MAESTRIST_LOG_LEVEL": "loud", "MAESTRIST_HOST": "a b"},
            {"MAESTRIST_LOG_LEVEL", "MAESTRIST_HOST"},
        ),
    ],
)
def test_bad_values_are_refused_naming_each_variable(env: dict[str, str], named: set[str]) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert set(caught.value.problems) == named
    assert all(name in str(caught.value) for name in named)


def test_bad_variables_of_every_family_are_named_in_one_error() -> None:
    env = {
        "MAESTRIST_PORT": "0",
        "MAESTRIST_DB_POOL_SIZE": "lots",
        "MAESTRIST_OIDC_SCOPES": "openid",
        "MAESTRIST_TERMS_URL": "terms",
        "MAESTRIST_GITHUB_URL": "http://github.example.com",
        "MAESTRIST_RUNTIME": "cloud",
        "MAESTRIST_CONVERSATION_LIMIT_PER_ORG": "0",
        "MAESTRIST_LOCAL_USER_EMAIL": "nobody",
        "MAESTRIST_ENCRYPTION_KEYS": "k1:short",
        "MAESTRIST_GITLAB_CLIENT_ID": "id-without-secret",
    }
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert set(caught.value.problems) == {
        "MAESTRIST_PORT",
        "MAESTRIST_DB_POOL_SIZE",
        "MAESTRIST_TERMS_URL",
        "MAESTRIST_GITHUB_URL",
        "MAESTRIST_RUNTIME",
        "MAESTRIST_CONVERSATION_LIMIT_PER_ORG",
        "MAESTRIST_LOCAL_USER_EMAIL",
        "MAESTRIST_ENCRYPTION_KEYS",
        "MAESTRIST_GITLAB_CLIENT_SECRET",
    }


def test_a_changed_section_leaves_the_settings_it_came_from_alone() -> None:
    settings = Settings.from_env({})
    changed = settings.with_changes(server=settings.server.with_changes(port=9000))
    assert (changed.server.port, settings.server.port) == (9000, 8000)
    assert changed.git is settings.git


def test_blank_values_fall_back_to_defaults() -> None:
    assert Settings.from_env({"MAESTRIST_PORT": "  "}).server.port == 8000


def test_repr_never_shows_connection_secrets() -> None:
    settings = Settings.from_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": PG,
            "MAESTRIST_REDIS_URL": "redis://:hunter2@cache:6379/0",
            **KEYS,
        }
    )
    assert "secret" not in repr(settings)
    assert "A" * 43 not in repr(settings)
    assert "B" * 43 not in repr(settings)
    assert "hunter2" not in repr(settings)


@given(st.dictionaries(st.sampled_from([r[0] for r in Settings.reference()]), st.text(max_size=40)))
def test_any_environment_either_parses_or_names_what_is_wrong(env: dict[str, str]) -> None:
    try:
        Settings.from_env(env)
    except SettingsError as exc:
        assert exc.problems
        assert set(exc.problems) <= {row[0] for row in Settings.reference()}


def test_every_field_has_a_documented_variable() -> None:
    names = [row[0] for row in Settings.reference()]
    assert len(names) == len(set(names))
    assert all(name.startswith("MAESTRIST_") for name in names)
    assert all(row[2] for row in Settings.reference())


def test_self_hosted_git_urls_are_normalised_and_star_means_any() -> None:
    parsed = Settings.from_env(
        {"MAESTRIST_GIT_SELF_HOSTED_URLS": "https://ghe.example.com/, https://gl.example.com"}
    )
    assert parsed.git.self_hosted_urls == ("https://ghe.example.com", "https://gl.example.com")
    assert Settings.from_env({"MAESTRIST_GIT_SELF_HOSTED_URLS": "*"}).git.self_hosted_urls == ("*",)
