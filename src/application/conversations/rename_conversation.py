from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation, ConversationTitle
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("RenameConversation", "RenameConversationRequest", "RenameConversationResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameConversationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameConversationResult:
    conversation: Conversation


class RenameConversation:
    """Give one of the caller's conversations a title (1 to 200 characters)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: RenameConversationRequest) -> RenameConversationResult:
        tenant = tenant_of(request.actor, request.org)
        conversation = await owned(self._uow.conversations, tenant, request.conversation_id)
        conversation.title = ConversationTitle(request.title)
        await self._uow.conversations.rename(tenant, conversation.id_, conversation.title)
        await self._uow.commit()
        return RenameConversationResult(conversation=conversation)
