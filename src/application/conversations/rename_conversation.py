from application.conversations._shared import owned, tenant_of
from application.ports.conversation_repository import ConversationRepository
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation, ConversationTitle
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("RenameConversation",)


class RenameConversation:
    """Give one of the caller's conversations a title (1 to 200 characters)."""

    def __init__(self, conversations: ConversationRepository, uow: UnitOfWork) -> None:
        self._conversations = conversations
        self._uow = uow

    async def execute(
        self,
        actor: Principal,
        org: MemberOrganization,
        conversation_id: ConversationId,
        title: str,
    ) -> Conversation:
        tenant = tenant_of(actor, org)
        conversation = await owned(self._conversations, tenant, conversation_id)
        conversation.title = ConversationTitle(title)
        await self._conversations.rename(tenant, conversation_id, conversation.title)
        await self._uow.commit()
        return conversation
