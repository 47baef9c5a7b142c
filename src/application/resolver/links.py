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

    def conversation_url(self, conversation_id: ConversationId) -> str:
        return f"{self.public_url}/conversations/{conversation_id}"

    def host_url(self, provider: ProviderKind) -> str:
        return self.host_urls[provider]

    def thread_url(self, thread: ThreadRef) -> str:
        kind = "pull" if thread.is_pull_request else "issues"
        return f"{self.host_url(thread.provider)}/{thread.repository}/{kind}/{thread.number}"
