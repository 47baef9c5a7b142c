import contextlib
from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.conversations.ingest import ConversationIngest
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("DeleteConversation", "DeleteConversationRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteConversationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId


class DeleteConversation:
    """Delete one of the caller's conversations: stop it and remove its runtime state, then
    our record with its events and callbacks."""

    def __init__(
        self, uow: UnitOfWork, runtime: ConversationRuntime, ingest: ConversationIngest
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._ingest = ingest

    async def execute(self, request: DeleteConversationRequest) -> None:
        tenant = tenant_of(request.actor, request.org)
        await owned(self._uow.conversations, tenant, request.conversation_id)
        with contextlib.suppress(RuntimeConversationNotFoundError):
            await self._runtime.delete(request.conversation_id)
        await self._ingest.forget(request.conversation_id)
        await self._uow.conversations.delete(tenant, request.conversation_id)
        await self._uow.commit()
