import contextlib

from application.conversations.policy import ConversationLimits, LimitPolicy
from application.ports.clock import Clock
from application.ports.conversation_repository import ConversationRepository
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import ConversationStatus, Tenant
from domain.conversations.errors import (
    ConversationLimitReachedError,
    RuntimeConversationNotFoundError,
)

__all__ = ("ConcurrencyGate",)


class ConcurrencyGate:
    """Lets one more conversation of a tenant hold a runtime, within the per-member and
    per-organization limits: refuses (``ConversationLimitReachedError``) or, by policy,
    pauses the least recently active idle ones to make room."""

    def __init__(
        self,
        conversations: ConversationRepository,
        runtime: ConversationRuntime,
        uow: UnitOfWork,
        limits: ConversationLimits,
        clock: Clock,
    ) -> None:
        self._conversations = conversations
        self._runtime = runtime
        self._uow = uow
        self._limits = limits
        self._clock = clock

    async def admit(self, tenant: Tenant) -> None:
        checks = (
            ("user", self._limits.per_user, tenant.user_id),
            ("org", self._limits.per_org, None),
        )
        for scope, limit, user_id in checks:
            if limit is None:
                continue
            held = await self._conversations.holding_runtime(tenant.org_id, user_id)
            excess = len(held) - limit + 1
            if excess <= 0:
                continue
            idle = [c for c in held if c.status is ConversationStatus.IDLE]
            if self._limits.policy is not LimitPolicy.PAUSE_OLDEST or len(idle) < excess:
                raise ConversationLimitReachedError(limit=limit, scope=scope)
            for conversation in idle[:excess]:
                with contextlib.suppress(RuntimeConversationNotFoundError):
                    await self._runtime.pause(conversation.id_)
                conversation.transition(ConversationStatus.PAUSED, self._clock.now())
                await self._conversations.save(conversation)
            await self._uow.commit()
