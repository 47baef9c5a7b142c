"""Git providers: where their clouds are, the OAuth apps that refresh their tokens, which
self-hosted servers users may connect, and the hosts Keycloak brokers."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import InvalidValueError
from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in, is_loopback_http, text

__all__ = ("GitSettings",)

_ALIAS = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _is_base_url(raw: str) -> bool:
    parts = urlsplit(raw)
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def _web_url(raw: str) -> str:
    if not _is_base_url(raw):
        raise ValueError("expected an http(s) URL with a host and no credentials or query")
    if urlsplit(raw).scheme == "http" and not is_loopback_http(raw):
        raise ValueError("expected https, except on a loopback host for development")
    return raw.rstrip("/")


def _self_hosted_urls(raw: str) -> tuple[str, ...]:
    if raw.strip() == "*":
        return ("*",)
    urls: list[str] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        if not _is_base_url(part):
            raise ValueError(f"{part[:60]} is not an http(s) base URL")
        urls.append(part.rstrip("/"))
    if not urls:
        raise ValueError("list base URLs, or * for any")
    return tuple(urls)


def _brokered_hosts(raw: str) -> tuple[tuple[str, GitHost], ...]:
    """``alias=provider[:base-url],...`` -> (alias, host) pairs."""
    pairs: dict[str, GitHost] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        alias, sep, target = part.partition("=")
        alias = alias.strip()
        kind, _, base_url = target.strip().partition(":")
        if not sep or not _ALIAS.fullmatch(alias):
            raise ValueError("write each entry as alias=provider[:base-url]")
        if alias in pairs:
            raise ValueError(f"alias {alias} appears twice")
        try:
            pairs[alias] = GitHost(ProviderKind.parse(kind), base_url or None)
        except InvalidValueError as exc:
            raise ValueError(f"{alias}: {exc.message}") from None
    if not pairs:
        raise ValueError("at least one alias=provider is needed")
    return tuple(pairs.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class GitSettings(Section):
    """GitHub, GitLab and Bitbucket, and the git credentials runtimes get."""

    runtime_credential_ttl_s: int = setting(
        "MAESTRIST_RUNTIME_CREDENTIAL_TTL",
        "Seconds a runtime's git credential stays valid (30-3600); the runtime exchanges it "
        "at `GET /api/runtime/git-token` for the current provider token.",
        int_in(30, 3600),
        default=600,
    )
    github_url: str = setting(
        "MAESTRIST_GITHUB_URL",
        "Web address of GitHub's public cloud; its API (`https://api.github.com` for "
        "github.com, else `<url>/api/v3`) and OAuth token endpoint derive from it. Change it "
        "only to point the server at a stand-in.",
        _web_url,
        default="https://github.com",
    )
    gitlab_url: str = setting(
        "MAESTRIST_GITLAB_URL",
        "Web address of GitLab's public cloud; its API (`<url>/api/v4`) and OAuth token "
        "endpoint derive from it.",
        _web_url,
        default="https://gitlab.com",
    )
    bitbucket_url: str = setting(
        "MAESTRIST_BITBUCKET_URL",
        "Web address of Bitbucket Cloud; its API (`https://api.bitbucket.org/2.0` for "
        "bitbucket.org, else `<url>/!api/2.0`) and OAuth token endpoint derive from it.",
        _web_url,
        default="https://bitbucket.org",
    )
    github_client_id: str | None = setting(
        "MAESTRIST_GITHUB_CLIENT_ID",
        "Client id of the GitHub OAuth app (or GitHub App) whose expiring user tokens the "
        "server refreshes (those Keycloak brokered at sign-in); unset: a GitHub token that "
        "expires asks its user to connect GitHub again.",
        text,
        default=None,
    )
    github_client_secret: str | None = setting(
        "MAESTRIST_GITHUB_CLIENT_SECRET",
        "Its client secret, with `MAESTRIST_GITHUB_CLIENT_ID`.",
        text,
        default=None,
        secret=True,
    )
    gitlab_client_id: str | None = setting(
        "MAESTRIST_GITLAB_CLIENT_ID",
        "Application id of the GitLab OAuth application the server refreshes GitLab tokens "
        "with (GitLab's expire after 2 hours).",
        text,
        default=None,
    )
    gitlab_client_secret: str | None = setting(
        "MAESTRIST_GITLAB_CLIENT_SECRET",
        "Its secret, with `MAESTRIST_GITLAB_CLIENT_ID`.",
        text,
        default=None,
        secret=True,
    )
    bitbucket_client_id: str | None = setting(
        "MAESTRIST_BITBUCKET_CLIENT_ID",
        "Key of the Bitbucket OAuth consumer the server refreshes Bitbucket tokens with.",
        text,
        default=None,
    )
    bitbucket_client_secret: str | None = setting(
        "MAESTRIST_BITBUCKET_CLIENT_SECRET",
        "Its secret, with `MAESTRIST_BITBUCKET_CLIENT_ID`.",
        text,
        default=None,
        secret=True,
    )
    token_refresh_margin_s: int = setting(
        "MAESTRIST_GIT_TOKEN_REFRESH_MARGIN",
        "Seconds a git provider token must still be valid when handed out (0-3600); one "
        "expiring sooner is refreshed first.",
        int_in(0, 3600),
        default=300,
    )
    self_hosted_urls: tuple[str, ...] | None = setting(
        "MAESTRIST_GIT_SELF_HOSTED_URLS",
        "Base URLs of the GitHub Enterprise and self-managed GitLab servers users may connect "
        "with a personal token (`https://ghe.example.com,https://gitlab.example.com`), or `*` "
        "for any. Unset: any in the embedded binding, none in the clustered one, so users "
        "cannot make a shared server call hosts of their choosing.",
        _self_hosted_urls,
        default=None,
    )
    brokered_hosts: tuple[tuple[str, GitHost], ...] | None = setting(
        "MAESTRIST_BROKERED_GIT_HOSTS",
        "With `MAESTRIST_KEYCLOAK_URL`: the git host behind each Keycloak identity provider "
        "alias whose token to keep at sign-in, `alias=provider[:base-url],...` "
        "(`github=github,corp-github=github:https://ghe.example.com`). Unset: the aliases "
        "`github`, `gitlab` and `bitbucket` broker their public clouds.",
        _brokered_hosts,
        default=None,
    )

    @property
    def oauth_clients(self) -> dict[ProviderKind, tuple[str, str]]:
        """(client id, secret) of each provider whose OAuth app is configured."""
        return {
            kind: (client_id, secret)
            for kind, client_id, secret in (
                (ProviderKind.GITHUB, self.github_client_id, self.github_client_secret),
                (ProviderKind.GITLAB, self.gitlab_client_id, self.gitlab_client_secret),
                (ProviderKind.BITBUCKET, self.bitbucket_client_id, self.bitbucket_client_secret),
            )
            if client_id is not None and secret is not None
        }

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        return {
            f"MAESTRIST_{name}_CLIENT_SECRET": f"set both MAESTRIST_{name}_CLIENT_ID and its secret"
            for name, client_id, secret in (
                ("GITHUB", self.github_client_id, self.github_client_secret),
                ("GITLAB", self.gitlab_client_id, self.gitlab_client_secret),
                ("BITBUCKET", self.bitbucket_client_id, self.bitbucket_client_secret),
            )
            if (client_id is None) != (secret is None)
        }
