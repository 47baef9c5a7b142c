from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.conversations.ingest import ConversationIngest
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("StopConversation", "StopConversationRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class StopConversationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId


class StopConversation:
    """Stop now: the step in progress is cancelled. A new message or resume runs it again."""

    def __init__(
        self, uow: UnitOfWork, runtime: ConversationRuntime, ingest: ConversationIngest
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._ingest = ingest

    async def execute(self, request: StopConversationRequest) -> None:
        tenant = tenant_of(request.actor, request.org)
        await owned(self._uow.conversations, tenant, request.conversation_id)
        self._ingest.follow(request.conversation_id)
        await self._runtime.stop(request.conversation_id)
