from uuid import UUID

from application.billing import FundsCheck
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.ingest import ConversationIngest
from application.conversations.limits import ConcurrencyGate
from application.jobs.handlers import JobHandler, PermanentJobError
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.unit_of_work import UnitOfWork
from domain.billing.holds import BillingHold, PaymentRequiredError
from domain.conversations.entities import ConversationStatus
from domain.conversations.errors import ConversationLimitReachedError
from domain.conversations.value_objects import ConversationId
from domain.jobs.entities import Job

__all__ = ("ResumeHeldConversation",)


class ResumeHeldConversation(JobHandler):
    """Resume one conversation billing paused when its organization's balance ran out, now
    that a top-up raised it: as its owner resuming it would, within the concurrency limits.
    One the balance still cannot carry stays held (the next top-up tries again); one that no
    longer waits (stopped, resumed or deleted since) is let be; one the limits refuse now is
    released from the hold, paused, for its owner to resume."""

    def __init__(
        self,
        uow: UnitOfWork,
        runtime: ConversationRuntime,
        ingest: ConversationIngest,
        gate: ConcurrencyGate,
        git: RuntimeGitAccess,
        funds: FundsCheck,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._ingest = ingest
        self._gate = gate
        self._git = git
        self._funds = funds
        self._clock = clock

    async def handle(self, job: Job) -> None:
        try:
            conversation_id = ConversationId(UUID(str(job.payload["conversationId"])))
        except (KeyError, ValueError) as exc:
            raise PermanentJobError(f"the job names no conversation ({exc})") from exc
        conversation = await self._uow.conversations.get_for_owner(conversation_id)
        if conversation is None or conversation.billing_hold is not BillingHold.FUNDS:
            return
        now = self._clock.now()
        if conversation.status is not ConversationStatus.PAUSED:
            conversation.release_billing_hold(now)
            await self._uow.conversations.save(conversation)
            await self._uow.commit()
            return
        try:
            await self._funds.check(self._uow, conversation.tenant, conversation.llm_payer, now)
        except PaymentRequiredError:
            return  # still short: held until the next top-up
        try:
            admission = await self._gate.admit(conversation.tenant)
        except ConversationLimitReachedError:
            admission = None
        conversation.release_billing_hold(now)
        if admission is None:
            conversation.status_reason = None
        await self._uow.conversations.save(conversation)
        await self._uow.commit()
        if admission is None:
            return
        self._ingest.follow(conversation.id_)
        await self._gate.make_room(admission)
        await self._git.renew(conversation)
        await self._runtime.resume(conversation.id_)
