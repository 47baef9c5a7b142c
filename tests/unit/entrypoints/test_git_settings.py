"""The git-provider settings: cloud addresses, OAuth apps, refresh margin, brokered hosts."""

import pytest

from domain.git.providers import GitHost, ProviderKind
from entrypoints.settings import Settings, SettingsError

KEYCLOAK = {
    "MAESTRIST_BINDING": "clustered",
    "MAESTRIST_DATABASE_URL": "postgresql+asyncpg://app@db.internal:5432/maestrist",
    "MAESTRIST_REDIS_URL": "redis://cache:6379/2",
    "MAESTRIST_ENCRYPTION_KEYS": "e1:" + "A" * 43,
    "MAESTRIST_SIGNING_KEYS": "s1:" + "B" * 43,
    "MAESTRIST_PUBLIC_URL": "https://maestrist.example.com",
    "MAESTRIST_OIDC_ISSUER": "https://sso.example.com/realms/m",
    "MAESTRIST_OIDC_CLIENT_ID": "maestrist",
    "MAESTRIST_OIDC_CLIENT_SECRET": "oidc-secret",
    "MAESTRIST_KEYCLOAK_URL": "https://sso.example.com",
    "MAESTRIST_KEYCLOAK_REALM": "m",
}


def test_defaults_are_the_public_clouds_without_oauth_apps() -> None:
    settings = Settings.from_env({})
    assert (settings.git.github_url, settings.git.gitlab_url, settings.git.bitbucket_url) == (
        "https://github.com",
        "https://gitlab.com",
        "https://bitbucket.org",
    )
    assert settings.git.github_client_id is None
    assert settings.git.token_refresh_margin_s == 300
    assert settings.git.brokered_hosts is None


def test_reads_cloud_overrides_oauth_apps_and_brokered_hosts() -> None:
    settings = Settings.from_env(
        {
            **KEYCLOAK,
            "MAESTRIST_GITHUB_URL": "http://127.0.0.1:8123/",
            "MAESTRIST_GITLAB_URL": "https://gitlab.example.com/gitlab",
            "MAESTRIST_GITHUB_CLIENT_ID": "Iv1.abc",
            "MAESTRIST_GITHUB_CLIENT_SECRET": "gh-app-secret",
            "MAESTRIST_GIT_TOKEN_REFRESH_MARGIN": "600",
            "MAESTRIST_BROKERED_GIT_HOSTS": "github=github, corp=github:https://ghe.example.com/",
        }
    )
    assert settings.git.github_url == "http://127.0.0.1:8123"
    assert settings.git.gitlab_url == "https://gitlab.example.com/gitlab"
    assert (settings.git.github_client_id, settings.git.github_client_secret) == (
        "Iv1.abc",
        "gh-app-secret",
    )
    assert settings.git.token_refresh_margin_s == 600
    assert settings.git.brokered_hosts == (
        ("github", GitHost(ProviderKind.GITHUB)),
        ("corp", GitHost(ProviderKind.GITHUB, "https://ghe.example.com")),
    )
    assert "gh-app-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MAESTRIST_GITHUB_URL": "http://github.example.com"}, "MAESTRIST_GITHUB_URL"),
        ({"MAESTRIST_GITLAB_URL": "ftp://gitlab.example.com"}, "MAESTRIST_GITLAB_URL"),
        ({"MAESTRIST_BITBUCKET_URL": "https://u:p@bb.example.com"}, "MAESTRIST_BITBUCKET_URL"),
        ({"MAESTRIST_GITHUB_URL": "https://github.com?x=1"}, "MAESTRIST_GITHUB_URL"),
        ({"MAESTRIST_GITHUB_CLIENT_ID": "id"}, "MAESTRIST_GITHUB_CLIENT_SECRET"),
        ({"MAESTRIST_GITLAB_CLIENT_SECRET": "s"}, "MAESTRIST_GITLAB_CLIENT_SECRET"),
        ({"MAESTRIST_BITBUCKET_CLIENT_ID": "id"}, "MAESTRIST_BITBUCKET_CLIENT_SECRET"),
        ({"MAESTRIST_GIT_TOKEN_REFRESH_MARGIN": "-1"}, "MAESTRIST_GIT_TOKEN_REFRESH_MARGIN"),
        ({"MAESTRIST_GIT_TOKEN_REFRESH_MARGIN": "3601"}, "MAESTRIST_GIT_TOKEN_REFRESH_MARGIN"),
        ({"MAESTRIST_BROKERED_GIT_HOSTS": "github"}, "MAESTRIST_BROKERED_GIT_HOSTS"),
        ({"MAESTRIST_BROKERED_GIT_HOSTS": "gh=gitea"}, "MAESTRIST_BROKERED_GIT_HOSTS"),
        ({"MAESTRIST_BROKERED_GIT_HOSTS": "a b=github"}, "MAESTRIST_BROKERED_GIT_HOSTS"),
        ({"MAESTRIST_BROKERED_GIT_HOSTS": "g=github,g=gitlab"}, "MAESTRIST_BROKERED_GIT_HOSTS"),
        (
            {"MAESTRIST_BROKERED_GIT_HOSTS": "bb=bitbucket:https://bb.example.com"},
            "MAESTRIST_BROKERED_GIT_HOSTS",
        ),
        (
            {"MAESTRIST_BROKERED_GIT_HOSTS": "gh=github:javascript:alert(1)"},
            "MAESTRIST_BROKERED_GIT_HOSTS",
        ),
    ],
)
def test_bad_git_settings_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**KEYCLOAK, **env})
    assert named in raised.value.problems
    assert "gh-app-secret" not in str(raised.value)


def test_brokered_hosts_need_keycloak() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"MAESTRIST_BROKERED_GIT_HOSTS": "github=github"})
    assert set(raised.value.problems) == {"MAESTRIST_BROKERED_GIT_HOSTS"}
