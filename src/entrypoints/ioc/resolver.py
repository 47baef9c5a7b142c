"""The resolver: the GitHub App, what triggers it, and the jobs and use cases that answer."""

from dishka import Provider, Scope, provide

from adapters.git_providers import GitHubApp, HttpxGitApps
from application.ports.clock import Clock
from application.ports.git_app import GitApps
from application.resolver import (
    AnswerTrigger,
    InstallationTokens,
    LinkAppInstallation,
    ListAppInstallations,
    PostResolverSummary,
    ResolverLinks,
)
from domain.git.providers import GitHost, ProviderKind
from domain.resolver.triggers import ResolverPolicy
from entrypoints.ioc.git_providers import GitHttpClient, git_cloud_urls
from entrypoints.settings import Settings

__all__ = ("ResolverProvider", "resolver_policy")


def resolver_policy(settings: Settings) -> ResolverPolicy:
    """The triggers the settings configure; the app's own bot account never triggers."""
    slug = settings.resolver.github_app_slug
    return ResolverPolicy(
        label=settings.resolver.label,
        handle=settings.resolver.handle,
        own_logins=frozenset() if slug is None else frozenset({f"{slug}[bot]"}),
    )


class ResolverProvider(Provider):
    scope = Scope.REQUEST
    answer_trigger = provide(AnswerTrigger)
    post_summary = provide(PostResolverSummary)
    link_installation = provide(LinkAppInstallation)
    list_installations = provide(ListAppInstallations)
    installation_tokens = provide(InstallationTokens)

    @provide(scope=Scope.APP)
    def apps(self, client: GitHttpClient, settings: Settings, clock: Clock) -> GitApps:
        urls = git_cloud_urls(settings.git)
        github = None
        if settings.resolver.github_app_enabled:
            assert settings.resolver.github_app_id is not None
            github = GitHubApp(
                client,
                api_url=urls.api_url(GitHost(ProviderKind.GITHUB)),
                app_id=settings.resolver.github_app_id,
                private_key_pem=settings.resolver.private_key_pem(),
                now=clock.now,
            )
        return HttpxGitApps(client, github=github, cloud_urls=urls)

    @provide(scope=Scope.APP)
    def links(self, settings: Settings) -> ResolverLinks:
        return ResolverLinks(
            public_url=settings.server.effective_public_url,
            host_urls={
                ProviderKind.GITHUB: settings.git.github_url.rstrip("/"),
                ProviderKind.GITLAB: settings.git.gitlab_url.rstrip("/"),
                ProviderKind.BITBUCKET: settings.git.bitbucket_url.rstrip("/"),
            },
        )
