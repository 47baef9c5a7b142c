from collections.abc import Mapping
from dataclasses import dataclass, field

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
    experiments: Mapping[str, str] = field(default_factory=dict)
    """The variant it runs with of each experiment it takes part in."""


class GetConversation:
    """One of the caller's conversations in the active organization, with the experiment
    variants it runs with; any other is not found."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: GetConversationRequest) -> GetConversationResult:
        tenant = tenant_of(request.actor, request.org)
        found = await owned(self._uow.conversations, tenant, request.conversation_id)
        experiments = await self._uow.experiments.of_conversation(found.id_)
        return GetConversationResult(conversation=found, experiments=experiments)
