from dataclasses import dataclass

from domain.conversations.value_objects import ConversationId
from domain.git.providers import ProviderKind
from domain.resolver.triggers import ThreadRef

__all__ = ("ResolverLinks",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverLinks:
    """The addresses the resolver writes in threads: ours (``public_url``), and each
    provider's web address (``host_urls``)."""

    public_url: str
    host_urls: dict[ProviderKind, str]

    @property
    def sign_in_url(self) -> str:
        return f"{self.public_url}/api/auth/login"

    def webhook_url(self, provider: ProviderKind) -> str:
        """Where a provider's webhooks deliver here."""
        return f"{self.public_url}/api/webhooks/{provider.value}"

    def conversation_url(self, conversation_id: ConversationId) -> str:
        return f"{self.public_url}/conversations/{conversation_id}"

    def host_url(self, provider: ProviderKind) -> str:
        return self.host_urls[provider]

    def thread_url(self, thread: ThreadRef, web_url: str | None = None) -> str:
        """The thread's web address, at ``web_url`` (a self-managed GitLab's) or else the
        provider's."""
        if thread.is_pull_request:
            kind = self.pull_request_path(thread.provider)
        else:
            kind = "-/issues" if thread.provider is ProviderKind.GITLAB else "issues"
        host = (web_url or self.host_url(thread.provider)).rstrip("/")
        return f"{host}/{thread.repository}/{kind}/{thread.number}"

    @staticmethod
    def pull_request_path(provider: ProviderKind) -> str:
        """Where a provider's pull requests live under a repository's web address."""
        match provider:
            case ProviderKind.GITHUB:
                return "pull"
            case ProviderKind.GITLAB:
                return "-/merge_requests"
            case ProviderKind.BITBUCKET:
                return "pull-requests"
