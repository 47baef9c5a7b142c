from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.ingest import ConversationIngest
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import ConversationStatus
from domain.conversations.errors import InvalidStatusTransitionError
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("RespondToConfirmation", "RespondToConfirmationRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class RespondToConfirmationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId
    accept: bool
    reason: str = ""


class RespondToConfirmation:
    """Run (accept) or reject the action the agent waits to have confirmed; 409 when nothing
    waits."""

    def __init__(
        self,
        uow: UnitOfWork,
        runtime: ConversationRuntime,
        ingest: ConversationIngest,
        git: RuntimeGitAccess,
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._ingest = ingest
        self._git = git

    async def execute(self, request: RespondToConfirmationRequest) -> None:
        tenant = tenant_of(request.actor, request.org)
        conversation = await owned(self._uow.conversations, tenant, request.conversation_id)
        self._ingest.follow(conversation.id_)
        if conversation.status is not ConversationStatus.WAITING_FOR_CONFIRMATION:
            raise InvalidStatusTransitionError(
                conversation.status.value, "confirmed (nothing waits for confirmation)"
            )
        if len(request.reason) > 1000:
            raise InvalidValueError("A reason is at most 1000 characters.", field="reason")
        if request.accept:
            await self._git.renew(conversation)
        await self._runtime.respond_to_confirmation(
            conversation.id_, accept=request.accept, reason=request.reason
        )
