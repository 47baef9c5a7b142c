"""What the owner of a conversation tells its agent: a message, pause, resume, stop, and the
answer to an action waiting for confirmation. Each acts on the runtime; the new status comes
back through the event stream."""

from collections.abc import Sequence

from application.conversations._shared import message_parts, owned, tenant_of
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.ingest import ConversationIngest
from application.conversations.limits import ConcurrencyGate
from application.ports.conversation_repository import ConversationRepository
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import Conversation, ConversationStatus
from domain.conversations.errors import InvalidStatusTransitionError
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = (
    "PauseConversation",
    "RespondToConfirmation",
    "ResumeConversation",
    "SendMessage",
    "StopConversation",
)


class _Control:
    def __init__(
        self,
        conversations: ConversationRepository,
        runtime: ConversationRuntime,
        ingest: ConversationIngest,
        gate: ConcurrencyGate,
        git: RuntimeGitAccess,
    ) -> None:
        self._conversations = conversations
        self._runtime = runtime
        self._ingest = ingest
        self._gate = gate
        self._git = git

    async def _owned(
        self, actor: Principal, org: MemberOrganization, conversation_id: ConversationId
    ) -> Conversation:
        conversation = await owned(self._conversations, tenant_of(actor, org), conversation_id)
        self._ingest.follow(conversation_id)
        return conversation


class SendMessage(_Control):
    """Send the agent a message; it works on it, running again if it had stopped, paused or
    finished (within the concurrency limits, as a new conversation would)."""

    async def execute(
        self,
        actor: Principal,
        org: MemberOrganization,
        conversation_id: ConversationId,
        text: str | None,
        images: Sequence[str] = (),
    ) -> None:
        parts = message_parts(text, images)
        if not parts:
            raise InvalidValueError("A message needs text or an image.", field="text")
        conversation = await self._owned(actor, org, conversation_id)
        if not conversation.status.holds_runtime:
            await self._gate.admit(conversation.tenant)
        await self._git.renew(conversation)
        await self._runtime.send_message(conversation_id, parts)


class PauseConversation(_Control):
    """Pause after the step in progress, which still completes."""

    async def execute(
        self, actor: Principal, org: MemberOrganization, conversation_id: ConversationId
    ) -> None:
        await self._owned(actor, org, conversation_id)
        await self._runtime.pause(conversation_id)


class ResumeConversation(_Control):
    """Run again after a pause or a stop; nothing happens when it is running already."""

    async def execute(
        self, actor: Principal, org: MemberOrganization, conversation_id: ConversationId
    ) -> None:
        conversation = await self._owned(actor, org, conversation_id)
        if not conversation.status.holds_runtime:
            await self._gate.admit(conversation.tenant)
        await self._git.renew(conversation)
        await self._runtime.resume(conversation_id)


class StopConversation(_Control):
    """Stop now: the step in progress is cancelled. A new message or resume runs it again."""

    async def execute(
        self, actor: Principal, org: MemberOrganization, conversation_id: ConversationId
    ) -> None:
        await self._owned(actor, org, conversation_id)
        await self._runtime.stop(conversation_id)


class RespondToConfirmation(_Control):
    """Run (accept) or reject the action the agent waits to have confirmed; 409 when nothing
    waits."""

    async def execute(
        self,
        actor: Principal,
        org: MemberOrganization,
        conversation_id: ConversationId,
        *,
        accept: bool,
        reason: str = "",
    ) -> None:
        conversation = await self._owned(actor, org, conversation_id)
        if conversation.status is not ConversationStatus.WAITING_FOR_CONFIRMATION:
            raise InvalidStatusTransitionError(
                conversation.status.value, "confirmed (nothing waits for confirmation)"
            )
        if len(reason) > 1000:
            raise InvalidValueError("A reason is at most 1000 characters.", field="reason")
        if accept:
            await self._git.renew(conversation)
        await self._runtime.respond_to_confirmation(conversation_id, accept=accept, reason=reason)
