from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("GetConversation", "GetConversationRequest", "GetConversationResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConversationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConversationResult:
    conversation: Conversation


class GetConversation:
    """One of the caller's conversations in the active organization; any other is not found."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: GetConversationRequest) -> GetConversationResult:
        tenant = tenant_of(request.actor, request.org)
        found = await owned(self._uow.conversations, tenant, request.conversation_id)
        return GetConversationResult(conversation=found)
