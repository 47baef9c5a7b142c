from application.conversations._shared import owned, tenant_of
from application.ports.conversation_repository import ConversationRepository
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import Conversation
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("GetConversation",)


class GetConversation:
    """One of the caller's conversations in the active organization; any other is not found."""

    def __init__(self, conversations: ConversationRepository) -> None:
        self._conversations = conversations

    async def execute(
        self, actor: Principal, org: MemberOrganization, conversation_id: ConversationId
    ) -> Conversation:
        return await owned(self._conversations, tenant_of(actor, org), conversation_id)
