from application.resolver.answer_trigger import (
    ANSWER_TRIGGER,
    RESOLVER_REPLY_CALLBACK,
    AnswerTrigger,
    ResolverTrigger,
    prompt_of,
)
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

__all__ = (
    "ANSWER_TRIGGER",
    "POST_SUMMARY",
    "RESOLVER_REPLY_CALLBACK",
    "AnswerTrigger",
    "GithubDelivery",
    "InstallationChange",
    "InstallationTokens",
    "LinkAppInstallation",
    "LinkAppInstallationRequest",
    "ListAppInstallations",
    "PostResolverSummary",
    "ResolverLinks",
    "ResolverReply",
    "ResolverTrigger",
    "keep_installation_change",
    "prompt_of",
    "pull_request_urls",
    "read_github_delivery",
)
