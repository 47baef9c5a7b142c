"""Our record of a conversation, the events we keep of it, and the callbacks it runs."""

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, NewType
from uuid import UUID

from domain.billing.holds import BillingHold, hold_reason
from domain.billing.usage import LlmPayer
from domain.conversations.errors import (
    ConversationBudgetSpentError,
    InvalidStatusTransitionError,
    budget_spent_reason,
)
from domain.conversations.value_objects import (
    ConversationId,
    EventType,
    RuntimeStatus,
    StartPhase,
)
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.triggers import ConversationTrigger
from domain.shared.errors import InvalidValueError

__all__ = (
    "ENDED",
    "MAX_SEQ",
    "CallbackId",
    "CallbackStatus",
    "Conversation",
    "ConversationStatus",
    "ConversationTitle",
    "EventCallback",
    "RepositoryName",
    "StoredEvent",
    "Tenant",
)

CallbackId = NewType("CallbackId", UUID)

MAX_SEQ = 2**53 - 1
"""The greatest event sequence number a client may name: the greatest integer a JSON number
carries exactly (JavaScript's ``Number.MAX_SAFE_INTEGER``), so the bound the API documents is
the bound it keeps; far beyond any conversation, and within the signed 64-bit column."""


class ConversationStatus(StrEnum):
    """Where a conversation stands for its owner. ``stopped`` is ours (the owner stopped it);
    the others follow the runtime."""

    STARTING = "starting"
    RUNNING = "running"
    IDLE = "idle"
    PAUSED = "paused"
    WAITING_FOR_CONFIRMATION = "waiting_for_confirmation"
    FINISHED = "finished"
    ERROR = "error"
    STOPPED = "stopped"

    @property
    def holds_runtime(self) -> bool:
        """Counts against the concurrency limits: starting, working, or ready to work."""
        return self in _HOLDING

    @property
    def ended(self) -> bool:
        """Finished, failed or stopped: its runtime sends nothing until someone acts on it."""
        return self in ENDED

    @classmethod
    def from_runtime(cls, status: RuntimeStatus) -> "ConversationStatus | None":
        """The status a runtime report means for us; None when it says nothing (host states)."""
        return _FROM_RUNTIME.get(status)


ENDED = frozenset(
    {ConversationStatus.FINISHED, ConversationStatus.ERROR, ConversationStatus.STOPPED}
)
"""The statuses ``ConversationStatus.ended`` names."""

_HOLDING = frozenset(
    {
        ConversationStatus.STARTING,
        ConversationStatus.RUNNING,
        ConversationStatus.IDLE,
        ConversationStatus.WAITING_FOR_CONFIRMATION,
    }
)
_FROM_RUNTIME = {
    RuntimeStatus.IDLE: ConversationStatus.IDLE,
    RuntimeStatus.RUNNING: ConversationStatus.RUNNING,
    RuntimeStatus.PAUSED: ConversationStatus.PAUSED,
    RuntimeStatus.WAITING_FOR_CONFIRMATION: ConversationStatus.WAITING_FOR_CONFIRMATION,
    RuntimeStatus.FINISHED: ConversationStatus.FINISHED,
    RuntimeStatus.ERROR: ConversationStatus.ERROR,
    RuntimeStatus.STUCK: ConversationStatus.ERROR,
}
_S = ConversationStatus
_ALLOWED: Mapping[ConversationStatus, frozenset[ConversationStatus]] = {
    _S.STARTING: frozenset(set(_S) - {_S.STARTING}),
    _S.RUNNING: frozenset(set(_S) - {_S.STARTING, _S.RUNNING}),
    _S.IDLE: frozenset(set(_S) - {_S.STARTING, _S.IDLE}),
    _S.PAUSED: frozenset(set(_S) - {_S.STARTING, _S.PAUSED}),
    _S.WAITING_FOR_CONFIRMATION: frozenset(set(_S) - {_S.STARTING, _S.WAITING_FOR_CONFIRMATION}),
    _S.FINISHED: frozenset({_S.RUNNING, _S.IDLE, _S.PAUSED, _S.ERROR, _S.STOPPED}),
    _S.ERROR: frozenset({_S.RUNNING, _S.IDLE, _S.PAUSED, _S.STOPPED}),
    _S.STOPPED: frozenset({_S.RUNNING, _S.IDLE, _S.WAITING_FOR_CONFIRMATION, _S.ERROR}),
}
"""Nothing returns to ``starting``; a finished, failed or stopped conversation runs again on a
new message; the step a pause lets complete can still finish or fail it."""


_RUNTIME_FAILED = "The runtime reported an error."
_STUCK = "The agent was stuck in a loop."


def _is_control(ch: str) -> bool:
    """A control character or a lone surrogate: nothing a line of text shows."""
    return unicodedata.category(ch) in {"Cc", "Cs"}


def _one_line(text: str, limit: int) -> str:
    """White space collapsed, control characters dropped, cut to ``limit`` with an ellipsis."""
    cleaned = " ".join("".join(" " if _is_control(ch) else ch for ch in text).split())
    return cleaned if len(cleaned) <= limit else f"{cleaned[: limit - 1]}…"


@dataclass(frozen=True, slots=True)
class Tenant:
    """Whose a conversation is: the member who started it, in the organization it was
    started in. Every read of a conversation is scoped by it."""

    org_id: OrgId
    user_id: UserId


@dataclass(frozen=True, slots=True)
class ConversationTitle:
    """1 to 200 characters on one line: white space collapsed, and control characters (a NUL,
    an escape) turned to spaces, so every title can be stored and shown as it reads."""

    value: str

    MAX = 200

    def __post_init__(self) -> None:
        cleaned = " ".join("".join(" " if _is_control(ch) else ch for ch in self.value).split())
        if not cleaned:
            raise InvalidValueError("A title cannot be blank.", field="title")
        if len(cleaned) > self.MAX:
            raise InvalidValueError("A title is at most 200 characters.", field="title")
        object.__setattr__(self, "value", cleaned)

    @classmethod
    def from_message(cls, text: str) -> "ConversationTitle | None":
        """A title from a first message: its first line, cut at a word near 60 characters."""
        text = "".join(" " if _is_control(ch) and ch not in "\r\n" else ch for ch in text)
        line = next((part for part in text.splitlines() if part.strip()), "").strip()
        if not line:
            return None
        if len(line) > 60:
            cut = line[:60].rsplit(" ", 1)[0] or line[:60]
            line = f"{cut}…"
        return cls(line)


@dataclass(frozen=True, slots=True)
class RepositoryName:
    """``owner/name`` (GitLab groups may nest: ``group/sub/name``)."""

    value: str

    def __post_init__(self) -> None:
        parts = self.value.split("/")
        if (
            len(parts) < 2
            or any(not part or part in {".", ".."} or part != part.strip() for part in parts)
            or len(self.value) > 255
        ):
            raise InvalidValueError("Name the repository as owner/name.", field="repository")


@dataclass(kw_only=True, eq=False)
class Conversation:
    """A conversation as we keep it: whose it is, what it works on, where it stands, what it
    cost. The runtime holds the agent's state; we hold this and a copy of every event."""

    id_: ConversationId
    tenant: Tenant
    title: ConversationTitle | None = None
    repository: RepositoryName | None = None
    branch: str | None = None
    git_provider: ProviderKind | None = None
    parent_id: ConversationId | None = None
    """The conversation this one was started under, on the same workspace; None at the top."""
    status: ConversationStatus = ConversationStatus.STARTING
    status_reason: str | None = None
    """Why it stands in ``error``, when we know (the runtime's complaint or ours), or why it
    was paused when we paused it."""
    start_phase: StartPhase | None = None
    """How far its start got (``ready`` once the runtime holds it); None for one started
    before phases were recorded."""
    max_budget_usd: float | None = None
    """What it may spend on the LLM (its owner's budget per task when it started); once its
    cost reaches it, the run is paused and it takes no more work."""
    cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    active_seconds: float = 0.0
    llm_payer: LlmPayer | None = None
    """Who pays for its LLM calls, as it started: the organization's balance is debited for
    them only when it does. None for one started before this was recorded (not charged)."""
    billing_hold: BillingHold | None = None
    """Why billing paused it, until it runs again."""
    trigger: ConversationTrigger = ConversationTrigger.WEB
    """Where it was started from."""
    origin_url: str | None = None
    """The issue or pull request it answers, when a trigger there started it."""
    pull_requests: tuple[str, ...] = ()
    """The pull requests it opened, as far as we know (the resolver reads them from its
    summaries)."""
    created_at: datetime
    updated_at: datetime

    MAX_REASON: ClassVar[int] = 500

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Conversation) and other.id_ == self.id_

    def __hash__(self) -> int:
        return hash(self.id_)

    def can_become(self, status: ConversationStatus) -> bool:
        return status == self.status or status in _ALLOWED[self.status]

    def transition(self, status: ConversationStatus, now: datetime) -> bool:
        """Move to ``status``; False when already there. Raises
        ``InvalidStatusTransitionError`` for a move the lifecycle does not allow."""
        if status == self.status:
            return False
        if status not in _ALLOWED[self.status]:
            raise InvalidStatusTransitionError(self.status.value, status.value)
        self.status = status
        self.status_reason = None
        if status is ConversationStatus.RUNNING:
            self.billing_hold = None  # held only until it runs again
        self.updated_at = now
        return True

    def enter_phase(self, phase: StartPhase, now: datetime) -> bool:
        """Record that its start reached ``phase``; False when it was there already."""
        if phase is self.start_phase:
            return False
        self.start_phase = phase
        self.updated_at = now
        return True

    def fail(self, reason: str, now: datetime) -> bool:
        """Move to ``error`` saying why (the reason is cut to ``MAX_REASON`` characters); a
        conversation already in error takes the newer reason. False when nothing changed, or
        when the lifecycle does not allow ``error`` from here."""
        reason = _one_line(reason, self.MAX_REASON) or "The conversation failed."
        if self.status is ConversationStatus.ERROR:
            if self.status_reason == reason:
                return False
            self.status_reason = reason
            self.updated_at = now
            return True
        if not self.can_become(ConversationStatus.ERROR):
            return False
        self.transition(ConversationStatus.ERROR, now)
        self.status_reason = reason
        return True

    def follow_runtime(
        self, reported: RuntimeStatus, now: datetime, *, reason: str | None = None
    ) -> bool:
        """Take the status the runtime reports, as far as it means something to us: a stopped
        conversation stays stopped while the runtime calls it paused or idle, and a report the
        lifecycle does not allow (a late echo) is ignored. ``reason`` says why a run failed; a
        failure reported without one keeps a reason already known. True when the status
        changed."""
        status = ConversationStatus.from_runtime(reported)
        if status is None or not self.can_become(status):
            return False
        if self.status is ConversationStatus.STOPPED and status in {
            ConversationStatus.PAUSED,
            ConversationStatus.IDLE,
        }:
            return False
        if status is ConversationStatus.ERROR:
            if reason is not None:
                return self.fail(reason, now)
            if self.status is ConversationStatus.ERROR:
                return False
            return self.fail(_RUNTIME_FAILED if reported is RuntimeStatus.ERROR else _STUCK, now)
        return self.transition(status, now)

    def budget_spent(self) -> bool:
        """Whether its cost reached its budget."""
        return self.max_budget_usd is not None and self.cost_usd >= self.max_budget_usd

    def check_budget(self) -> None:
        """Raises ``ConversationBudgetSpentError`` once its budget is spent: no more work."""
        if self.max_budget_usd is not None and self.budget_spent():
            raise ConversationBudgetSpentError(budget=self.max_budget_usd, spent=self.cost_usd)

    def hold_for_billing(self, hold: BillingHold, now: datetime) -> bool:
        """Mark a running conversation to be paused for ``hold``; True when it was running
        and was not held already."""
        if self.status is not ConversationStatus.RUNNING or self.billing_hold is not None:
            return False
        self.billing_hold = hold
        self.updated_at = now
        return True

    def release_billing_hold(self, now: datetime) -> bool:
        """Clear billing's hold (it runs again); True when it had one."""
        if self.billing_hold is None:
            return False
        self.billing_hold = None
        self.updated_at = now
        return True

    def note_budget_pause(self, now: datetime) -> bool:
        """Say why a conversation paused for its spent budget, or by billing, stands paused;
        True when it did."""
        if self.status is not ConversationStatus.PAUSED:
            return False
        if self.max_budget_usd is not None and self.budget_spent():
            reason = budget_spent_reason(self.max_budget_usd, self.cost_usd)
        elif self.billing_hold is not None:
            reason = hold_reason(self.billing_hold)
        else:
            return False
        if self.status_reason == reason:
            return False
        self.status_reason = reason
        self.updated_at = now
        return True

    def record_usage(
        self, *, cost_usd: float, prompt_tokens: int, completion_tokens: int, now: datetime
    ) -> bool:
        """Take the runtime's running totals; they only grow. True when something changed."""
        cost = max(self.cost_usd, cost_usd)
        prompt = max(self.prompt_tokens, prompt_tokens)
        completion = max(self.completion_tokens, completion_tokens)
        if (cost, prompt, completion) == (
            self.cost_usd,
            self.prompt_tokens,
            self.completion_tokens,
        ):
            return False
        self.cost_usd, self.prompt_tokens, self.completion_tokens = cost, prompt, completion
        self.updated_at = now
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    """A runtime event as we keep it: numbered 1, 2, 3... per conversation in the order we
    stored it, its JSON whole (kinds we do not know are kept as they came)."""

    conversation_id: ConversationId
    seq: int
    event_id: str
    kind: str
    source: str
    type: EventType
    occurred_at: datetime
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.seq < 1:
            raise InvalidValueError("Sequence numbers start at 1.", field="seq")
        if not isinstance(self.payload, MappingProxyType):
            object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))


class CallbackStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ERROR = "error"


@dataclass(kw_only=True)
class EventCallback:
    """A processor a conversation runs on its state changes, with the state it keeps between
    runs; ``completed`` and ``error`` callbacks run no more."""

    id_: CallbackId
    conversation_id: ConversationId
    processor: str
    status: CallbackStatus = CallbackStatus.ACTIVE
    state: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime
