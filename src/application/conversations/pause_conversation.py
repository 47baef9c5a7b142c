from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.conversations.ingest import ConversationIngest
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("PauseConversation", "PauseConversationRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseConversationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId


class PauseConversation:
    """Pause after the step in progress, which still completes."""

    def __init__(
        self, uow: UnitOfWork, runtime: ConversationRuntime, ingest: ConversationIngest
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._ingest = ingest

    async def execute(self, request: PauseConversationRequest) -> None:
        tenant = tenant_of(request.actor, request.org)
        await owned(self._uow.conversations, tenant, request.conversation_id)
        self._ingest.follow(request.conversation_id)
        await self._runtime.pause(request.conversation_id)
