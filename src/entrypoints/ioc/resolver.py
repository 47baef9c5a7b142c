"""The resolver: what triggers it, and the jobs and use cases that answer (the GitHub App
itself is built with the other git provider adapters)."""

from dishka import Provider, Scope, provide

from application.resolver import (
    AnswerTrigger,
    DisableResolverRepository,
    EnableResolverRepository,
    GetResolverSettings,
    InstallationTokens,
    InstallRepositoryHook,
    LinkAppInstallation,
    ListAppInstallations,
    ListResolverRepositories,
    PostResolverSummary,
    RemoveRepositoryHook,
    ResolverLinks,
    ThreadCredentials,
    UpdateResolverSettings,
)
from domain.git.providers import ProviderKind
from domain.resolver.triggers import ResolverPolicy
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
    credentials = provide(ThreadCredentials)
    enable_repository = provide(EnableResolverRepository)
    disable_repository = provide(DisableResolverRepository)
    list_repositories = provide(ListResolverRepositories)
    install_hook = provide(InstallRepositoryHook)
    remove_hook = provide(RemoveRepositoryHook)
    get_settings = provide(GetResolverSettings)
    update_settings = provide(UpdateResolverSettings)

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> ResolverPolicy:
        """The server's triggers, which an organization's settings may change."""
        return resolver_policy(settings)

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
