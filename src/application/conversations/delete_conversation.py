import contextlib

from application.conversations._shared import owned, tenant_of
from application.conversations.ingest import ConversationIngest
from application.ports.conversation_repository import ConversationRepository
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("DeleteConversation",)


class DeleteConversation:
    """Delete one of the caller's conversations: stop it and remove its runtime state, then
    our record with its events and callbacks."""

    def __init__(
        self,
        conversations: ConversationRepository,
        uow: UnitOfWork,
        runtime: ConversationRuntime,
        ingest: ConversationIngest,
    ) -> None:
        self._conversations = conversations
        self._uow = uow
        self._runtime = runtime
        self._ingest = ingest

    async def execute(
        self, actor: Principal, org: MemberOrganization, conversation_id: ConversationId
    ) -> None:
        tenant = tenant_of(actor, org)
        await owned(self._conversations, tenant, conversation_id)
        with contextlib.suppress(RuntimeConversationNotFoundError):
            await self._runtime.delete(conversation_id)
        await self._ingest.forget(conversation_id)
        await self._conversations.delete(tenant, conversation_id)
        await self._uow.commit()
