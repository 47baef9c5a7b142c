from application.resolver.answer_trigger import (
    ANSWER_TRIGGER,
    RESOLVER_REPLY_CALLBACK,
    AnswerTrigger,
    ResolverTrigger,
    prompt_of,
)
from application.resolver.credentials import ActingToken, ThreadCredentials
from application.resolver.github_events import (
    GithubDelivery,
    InstallationChange,
    read_github_delivery,
)
from application.resolver.installation_tokens import InstallationTokens
from application.resolver.installations import (
    LinkAppInstallation,
    LinkAppInstallationRequest,
    ListAppInstallations,
    keep_installation_change,
)
from application.resolver.links import ResolverLinks
from application.resolver.post_summary import (
    POST_SUMMARY,
    PostResolverSummary,
    ResolverReply,
    pull_request_urls,
)
from application.resolver.repositories import (
    INSTALL_HOOK,
    REMOVE_HOOK,
    DisableResolverRepository,
    DisableResolverRepositoryRequest,
    EnabledRepository,
    EnableResolverRepository,
    EnableResolverRepositoryRequest,
    InstallRepositoryHook,
    ListResolverRepositories,
    RemoveRepositoryHook,
)
from application.resolver.settings import (
    GetResolverSettings,
    ResolverSettingsView,
    UpdateResolverSettings,
    UpdateResolverSettingsRequest,
    org_policy,
)

__all__ = (
    "ANSWER_TRIGGER",
    "INSTALL_HOOK",
    "POST_SUMMARY",
    "REMOVE_HOOK",
    "RESOLVER_REPLY_CALLBACK",
    "ActingToken",
    "AnswerTrigger",
    "DisableResolverRepository",
    "DisableResolverRepositoryRequest",
    "EnableResolverRepository",
    "EnableResolverRepositoryRequest",
    "EnabledRepository",
    "GetResolverSettings",
    "GithubDelivery",
    "InstallRepositoryHook",
    "InstallationChange",
    "InstallationTokens",
    "LinkAppInstallation",
    "LinkAppInstallationRequest",
    "ListAppInstallations",
    "ListResolverRepositories",
    "PostResolverSummary",
    "RemoveRepositoryHook",
    "ResolverLinks",
    "ResolverReply",
    "ResolverSettingsView",
    "ResolverTrigger",
    "ThreadCredentials",
    "UpdateResolverSettings",
    "UpdateResolverSettingsRequest",
    "keep_installation_change",
    "org_policy",
    "prompt_of",
    "pull_request_urls",
    "read_github_delivery",
)
