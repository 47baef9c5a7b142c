import contextlib
from dataclasses import dataclass

from application.conversations.policy import ConversationLimits, LimitPolicy
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation, ConversationStatus, Tenant
from domain.conversations.errors import (
    ConversationLimitReachedError,
    RuntimeConversationNotFoundError,
)

__all__ = ("Admission", "ConcurrencyGate")


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """Room for one more conversation holding a runtime: the idle ones it takes pausing,
    least recently active first (none when there was room)."""

    paused: tuple[Conversation, ...] = ()


class ConcurrencyGate:
    """Lets one more conversation of a tenant hold a runtime, within the per-member and
    per-organization limits: refuses (``ConversationLimitReachedError``) or, by policy,
    pauses the least recently active idle ones to make room.

    ``admit`` decides inside the caller's unit of work and never commits; the caller commits
    what it decided, then calls ``make_room`` to pause those conversations on the runtime."""

    def __init__(
        self,
        uow: UnitOfWork,
        runtime: ConversationRuntime,
        limits: ConversationLimits,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._runtime = runtime
        self._limits = limits
        self._clock = clock

    async def admit(self, tenant: Tenant) -> Admission:
        """Takes the organization's admission lock (``lock_admissions``) before it counts, so
        the caller's commit must follow soon and before any runtime call; marks the idle
        conversations it pauses as paused in the unit of work."""
        await self._uow.conversations.lock_admissions(tenant.org_id)
        checks = (
            ("user", self._limits.per_user, tenant.user_id),
            ("org", self._limits.per_org, None),
        )
        paused: list[Conversation] = []
        for scope, limit, user_id in checks:
            if limit is None:
                continue
            held = await self._uow.conversations.holding_runtime(tenant.org_id, user_id)
            excess = len(held) - limit + 1
            if excess <= 0:
                continue
            idle = [c for c in held if c.status is ConversationStatus.IDLE]
            if self._limits.policy is not LimitPolicy.PAUSE_OLDEST or len(idle) < excess:
                raise ConversationLimitReachedError(limit=limit, scope=scope)
            for conversation in idle[:excess]:
                conversation.transition(ConversationStatus.PAUSED, self._clock.now())
                await self._uow.conversations.save(conversation)
                paused.append(conversation)
        return Admission(paused=tuple(paused))

    async def make_room(self, admission: Admission) -> None:
        """Pause on the runtime what ``admit`` marked paused; call it after the commit."""
        for conversation in admission.paused:
            with contextlib.suppress(RuntimeConversationNotFoundError):
                await self._runtime.pause(conversation.id_)
