"""GitHub, GitLab and Bitbucket, and the policies the git settings configure."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import NewType

import httpx
from dishka import Provider, Scope, provide

from adapters.git_providers import (
    CloudUrls,
    GitHubApp,
    HttpxGitApps,
    HttpxGitProviders,
    HttpxProviderOAuth,
    OAuthApp,
    create_http_client,
)
from application.git import ProviderTokenPolicy, SelfHostedGitPolicy
from application.git.runtime_credentials import RuntimeCredentialTtl
from application.identity.brokered_tokens import BrokeredHosts
from application.ports.clock import Clock
from application.ports.git_app import GitApps
from application.ports.git_provider import GitProviders, ProviderOAuth
from domain.git.providers import GitHost, ProviderKind
from entrypoints.settings import Binding, GitSettings, Settings

__all__ = ("GitHttpClient", "GitProvidersProvider", "git_cloud_urls", "git_oauth_apps")

GitHttpClient = NewType("GitHttpClient", httpx.AsyncClient)
"""The one HTTP client every git provider adapter shares."""


def git_cloud_urls(git: GitSettings) -> CloudUrls:
    return CloudUrls(github=git.github_url, gitlab=git.gitlab_url, bitbucket=git.bitbucket_url)


def git_oauth_apps(git: GitSettings) -> dict[GitHost, OAuthApp]:
    """Each provider's OAuth app serves its public cloud and the hosts Keycloak brokers it for
    (a GitHub Enterprise behind the ``github`` alias, say)."""
    apps = {kind: OAuthApp(*client) for kind, client in git.oauth_clients.items()}
    brokered = [host for _, host in git.brokered_hosts or ()]
    return {
        host: apps[host.kind]
        for host in [*(GitHost(kind) for kind in ProviderKind), *brokered]
        if host.kind in apps
    }


class GitProvidersProvider(Provider):
    """GitHub, GitLab and Bitbucket over one shared HTTP client, at the clouds the settings
    name, refreshing tokens with the OAuth apps the settings hold."""

    @provide(scope=Scope.APP)
    async def http_client(self) -> AsyncIterator[GitHttpClient]:
        client = create_http_client()
        yield GitHttpClient(client)
        await client.aclose()

    @provide(scope=Scope.APP)
    def providers(self, client: GitHttpClient, settings: Settings) -> GitProviders:
        return HttpxGitProviders(client, git_cloud_urls(settings.git))

    @provide(scope=Scope.APP)
    def apps(self, client: GitHttpClient, settings: Settings, clock: Clock) -> GitApps:
        """The GitHub App, when its id and private key are set."""
        urls = git_cloud_urls(settings.git)
        github = None
        if settings.resolver.github_app_id is not None:
            github = GitHubApp(
                client,
                api_url=urls.api_url(GitHost(ProviderKind.GITHUB)),
                app_id=settings.resolver.github_app_id,
                private_key_pem=settings.resolver.private_key_pem(),
                now=clock.now,
            )
        return HttpxGitApps(client, github=github, cloud_urls=urls)

    @provide(scope=Scope.APP)
    def oauth(self, client: GitHttpClient, settings: Settings, clock: Clock) -> ProviderOAuth:
        return HttpxProviderOAuth(
            client, git_cloud_urls(settings.git), git_oauth_apps(settings.git), clock
        )

    @provide(scope=Scope.APP)
    def self_hosted_git_policy(self, settings: Settings) -> SelfHostedGitPolicy:
        listed = settings.git.self_hosted_urls
        if listed == ("*",) or (listed is None and settings.binding is Binding.EMBEDDED):
            return SelfHostedGitPolicy(None)
        return SelfHostedGitPolicy(frozenset(listed or ()))

    @provide(scope=Scope.APP)
    def provider_token_policy(self, settings: Settings) -> ProviderTokenPolicy:
        return ProviderTokenPolicy(
            refresh_margin=timedelta(seconds=settings.git.token_refresh_margin_s)
        )

    @provide(scope=Scope.APP)
    def runtime_credential_ttl(self, settings: Settings) -> RuntimeCredentialTtl:
        return RuntimeCredentialTtl(timedelta(seconds=settings.git.runtime_credential_ttl_s))

    @provide(scope=Scope.APP)
    def brokered_hosts(self, settings: Settings) -> BrokeredHosts:
        if settings.git.brokered_hosts is None:
            return BrokeredHosts()
        return BrokeredHosts(dict(settings.git.brokered_hosts))
