from application.conversations.policy import ConversationDefaults
from application.git.runtime_credentials import RuntimeGitCredentials
from application.ports.conversation_runtime import ConversationRuntime
from domain.conversations.entities import Conversation
from domain.conversations.value_objects import GitAccess
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId

__all__ = ("RuntimeGitAccess",)


class RuntimeGitAccess:
    """The git credential an agent runtime gets for a conversation: short-lived and signed,
    traded at our token endpoint for the owner's current provider token. Handed over at the
    start and again whenever the agent is about to work, so it never runs on an expired one."""

    def __init__(
        self,
        credentials: RuntimeGitCredentials,
        defaults: ConversationDefaults,
        runtime: ConversationRuntime,
    ) -> None:
        self._credentials = credentials
        self._defaults = defaults
        self._runtime = runtime

    def issue(self, user_id: UserId, provider: ProviderKind) -> GitAccess:
        credential = self._credentials.issue(user_id, provider)
        return GitAccess(
            provider=provider.value,
            token_url=self._defaults.git_token_url,
            credential=credential.token,
        )

    async def renew(self, conversation: Conversation) -> None:
        """A fresh credential for a conversation on a repository; nothing for one without."""
        if conversation.git_provider is None:
            return
        git = self.issue(conversation.tenant.user_id, conversation.git_provider)
        await self._runtime.renew_git_access(conversation.id_, git)
