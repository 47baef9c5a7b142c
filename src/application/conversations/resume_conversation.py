from dataclasses import dataclass

from application.billing import FundsCheck
from application.conversations._shared import owned, tenant_of
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.ingest import ConversationIngest
from application.conversations.limits import ConcurrencyGate
from application.experiments import ConversationExperiments
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("ResumeConversation", "ResumeConversationRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeConversationRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId


class ResumeConversation:
    """Run again after a pause or a stop; nothing happens when it is running already. It runs
    with the experiment variants it started with."""

    def __init__(
        self,
        uow: UnitOfWork,
        experiments: ConversationExperiments,
        runtime: ConversationRuntime,
        ingest: ConversationIngest,
        gate: ConcurrencyGate,
        git: RuntimeGitAccess,
        funds: FundsCheck,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._experiments = experiments
        self._runtime = runtime
        self._ingest = ingest
        self._gate = gate
        self._git = git
        self._funds = funds
        self._clock = clock

    async def execute(self, request: ResumeConversationRequest) -> None:
        tenant = tenant_of(request.actor, request.org)
        conversation = await owned(self._uow.conversations, tenant, request.conversation_id)
        conversation.check_budget()
        now = self._clock.now()
        await self._funds.check(self._uow, tenant, conversation.llm_payer, now)
        if conversation.release_billing_hold(now):
            await self._uow.conversations.save(conversation)
        admission = None
        if not conversation.status.holds_runtime:
            admission = await self._gate.admit(tenant)
        await self._experiments.assign(self._uow, conversation)
        await self._uow.commit()
        self._ingest.follow(conversation.id_)
        if admission is not None:
            await self._gate.make_room(admission)
        await self._git.renew(conversation)
        await self._runtime.resume(conversation.id_)
