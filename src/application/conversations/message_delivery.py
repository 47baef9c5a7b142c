from collections.abc import Sequence
from dataclasses import dataclass

from application.billing import FundsCheck
from application.conversations._shared import message_parts, owned, tenant_of
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.limits import Admission, ConcurrencyGate
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation
from domain.conversations.value_objects import ConversationId, MessagePart
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("MessageDelivery", "PreparedMessage")


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedMessage:
    conversation: Conversation
    parts: list[MessagePart]
    admission: Admission | None
    """None when the conversation holds a runtime already."""


class MessageDelivery:
    """A message from the owner of a conversation to its agent, in two steps around the
    caller's commit: ``prepare`` checks the message and ownership and, for a conversation that
    would run again, admits it within the concurrency limits (in the caller's unit of work);
    ``deliver``, after the commit, makes room and hands the message to the runtime."""

    def __init__(
        self,
        uow: UnitOfWork,
        runtime: ConversationRuntime,
        gate: ConcurrencyGate,
        git: RuntimeGitAccess,
        funds: FundsCheck,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._gate = gate
        self._git = git
        self._funds = funds
        self._clock = clock

    async def prepare(
        self,
        actor: Principal,
        org: MemberOrganization,
        conversation_id: ConversationId,
        text: str | None,
        images: Sequence[str] = (),
    ) -> PreparedMessage:
        parts = message_parts(text, images)
        if not parts:
            raise InvalidValueError("A message needs text or an image.", field="text")
        tenant = tenant_of(actor, org)
        conversation = await owned(self._uow.conversations, tenant, conversation_id)
        conversation.check_budget()
        now = self._clock.now()
        await self._funds.check(self._uow, tenant, conversation.llm_payer, now)
        if conversation.release_billing_hold(now):
            await self._uow.conversations.save(conversation)
        admission = None
        if not conversation.status.holds_runtime:
            admission = await self._gate.admit(conversation.tenant)
        return PreparedMessage(conversation=conversation, parts=parts, admission=admission)

    async def deliver(self, prepared: PreparedMessage) -> None:
        if prepared.admission is not None:
            await self._gate.make_room(prepared.admission)
        await self._git.renew(prepared.conversation)
        await self._runtime.send_message(prepared.conversation.id_, prepared.parts)
