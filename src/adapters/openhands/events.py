"""The agent-server's event JSON, read into the runtime-neutral ``RuntimeEvent`` without its
classes: ``kind`` stays open, what we act on (status, usage, a hard stop, why a run failed) is
read out, the JSON is kept whole but redacted, and naive server-local times become UTC."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from adapters.openhands.payloads import ConversationError, FullState, LlmMessage, Stats
from adapters.openhands.redaction import redact
from domain.conversations.value_objects import (
    ConversationId,
    EventType,
    RuntimeEvent,
    RuntimeStatus,
    Usage,
)

__all__ = (
    "is_snapshot",
    "message_text",
    "parse_status",
    "reply_text",
    "to_runtime_event",
    "usage_of",
)

STATE_UPDATE = "ConversationStateUpdateEvent"
INTERRUPT = "InterruptEvent"
"""What a hard stop leaves in the log; the runtime calls the conversation paused."""
ERROR = "ConversationErrorEvent"
"""The runtime's account of why a run failed: its ``code`` and ``detail``."""

_TYPES = {
    "MessageEvent": EventType.MESSAGE,
    "SystemPromptEvent": EventType.MESSAGE,
    "ActionEvent": EventType.ACTION,
    "ObservationEvent": EventType.OBSERVATION,
    "UserRejectObservation": EventType.OBSERVATION,
    "AgentErrorEvent": EventType.OBSERVATION,
    STATE_UPDATE: EventType.STATUS,
    "PauseEvent": EventType.STATUS,
    INTERRUPT: EventType.STATUS,
    ERROR: EventType.ERROR,
    "ServerErrorEvent": EventType.ERROR,
}

_STATUSES = {status.value: status for status in RuntimeStatus}


def parse_status(raw: object) -> RuntimeStatus:
    """The runtime's ``execution_status``; one we do not know (``deleting``) is unavailable."""
    return _STATUSES.get(str(raw), RuntimeStatus.UNAVAILABLE)


def is_snapshot(raw: Mapping[str, Any]) -> bool:
    """A full-state snapshot: sent to each subscriber and after each run, never logged."""
    return raw.get("kind") == STATE_UPDATE and raw.get("key") == "full_state"


def _occurred_at(raw: object) -> datetime:
    if not isinstance(raw, str):
        return datetime.now(UTC)
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        return datetime.now(UTC)
    return stamp.astimezone(UTC)  # naive stamps are the server's local time, like ours


def usage_of(raw: Mapping[str, Any]) -> Usage | None:
    """The running totals of a ``stats`` or ``full_state`` update, summed over the
    conversation's LLMs; None for any other event, or one we cannot read."""
    if raw.get("kind") != STATE_UPDATE:
        return None
    key, value = raw.get("key"), raw.get("value")
    try:
        if key == "stats":
            stats: Stats | None = msgspec.convert(value, Stats)
        elif key == "full_state":
            stats = msgspec.convert(value, FullState).stats
        else:
            return None
    except msgspec.ValidationError:
        return None
    if stats is None:
        return None
    tokens = [m.accumulated_token_usage for m in stats.usage_to_metrics.values()]
    counted = [each for each in tokens if each is not None]
    agent = stats.usage_to_metrics.get("agent")
    return Usage(
        input_tokens=sum(each.prompt_tokens for each in counted),
        output_tokens=sum(each.completion_tokens for each in counted),
        cache_read_tokens=sum(each.cache_read_tokens for each in counted),
        cache_write_tokens=sum(each.cache_write_tokens for each in counted),
        cost_usd=sum(m.accumulated_cost for m in stats.usage_to_metrics.values()),
        model=(agent.model_name or None) if agent is not None else None,
    )


def failure_of(raw: Mapping[str, Any]) -> str | None:
    """Why the runtime says a run failed, from a ``ConversationErrorEvent``."""
    if raw.get("kind") != ERROR:
        return None
    try:
        error = msgspec.convert(raw, ConversationError)
    except msgspec.ValidationError:
        return None
    text = error.detail if error.detail and error.detail.strip() else None
    if error.code and error.code.strip():
        return f"{error.code}: {text}" if text else error.code
    return text


def message_text(kind: str, source: str, payload: Mapping[str, Any]) -> str | None:
    """The first text part of a user's ``MessageEvent``; None for any other event."""
    if kind != "MessageEvent" or source != "user":
        return None
    try:
        message = msgspec.convert(payload.get("llm_message"), LlmMessage)
    except msgspec.ValidationError:
        return None
    for part in message.content:
        if isinstance(part, Mapping) and part.get("type") == "text" and part.get("text"):
            return str(part["text"])
    return None


def reply_text(kind: str, source: str, payload: Mapping[str, Any]) -> str | None:
    """The agent's own words: the first text part of its ``MessageEvent``, or the message of
    its ``finish`` action; None for any other event."""
    if source != "agent":
        return None
    if kind == "MessageEvent":
        return message_text(kind, "user", payload)
    action = payload.get("action") if kind == "ActionEvent" else None
    if not isinstance(action, Mapping) or action.get("kind") != "FinishAction":
        return None
    said = action.get("message")
    return said if isinstance(said, str) and said else None


def to_runtime_event(conversation_id: ConversationId, raw: Mapping[str, Any]) -> RuntimeEvent:
    """The neutral event for one logged event of the agent-server (``id`` required)."""
    kind = str(raw.get("kind") or "Unknown")
    status: RuntimeStatus | None = None
    if kind == STATE_UPDATE and raw.get("key") == "execution_status":
        status = parse_status(raw.get("value"))
    return RuntimeEvent(
        event_id=str(raw["id"]),
        conversation_id=conversation_id,
        kind=kind,
        source=str(raw.get("source") or "environment"),
        type=_TYPES.get(kind, EventType.OTHER),
        occurred_at=_occurred_at(raw.get("timestamp")),
        payload=redact(raw),
        terminal=status is not None and status.is_terminal,
        status=status,
        usage=usage_of(raw),
        interrupted=kind == INTERRUPT,
        failure=failure_of(raw),
    )
