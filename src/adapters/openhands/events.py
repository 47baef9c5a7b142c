"""The agent-server's event JSON, read into our envelope without its classes: ``kind`` stays
open, the JSON is kept whole, and naive server-local times become UTC."""

from datetime import UTC, datetime
from typing import Any

from domain.conversations.value_objects import (
    ConversationId,
    EventType,
    RuntimeEvent,
    RuntimeStatus,
)

__all__ = ("is_snapshot", "parse_status", "to_runtime_event")

_TYPES = {
    "MessageEvent": EventType.MESSAGE,
    "SystemPromptEvent": EventType.MESSAGE,
    "ActionEvent": EventType.ACTION,
    "ObservationEvent": EventType.OBSERVATION,
    "UserRejectObservation": EventType.OBSERVATION,
    "AgentErrorEvent": EventType.OBSERVATION,
    "ConversationStateUpdateEvent": EventType.STATUS,
    "PauseEvent": EventType.STATUS,
    "InterruptEvent": EventType.STATUS,
    "ConversationErrorEvent": EventType.ERROR,
    "ServerErrorEvent": EventType.ERROR,
}

_STATUSES = {status.value: status for status in RuntimeStatus}


def parse_status(raw: object) -> RuntimeStatus:
    """The runtime's ``execution_status``; one we do not know (``deleting``) is unavailable."""
    return _STATUSES.get(str(raw), RuntimeStatus.UNAVAILABLE)


def is_snapshot(raw: dict[str, Any]) -> bool:
    """A full-state snapshot: sent to each subscriber and after each run, never logged."""
    return raw.get("kind") == "ConversationStateUpdateEvent" and raw.get("key") == "full_state"


def _occurred_at(raw: object) -> datetime:
    if not isinstance(raw, str):
        return datetime.now(UTC)
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        return datetime.now(UTC)
    return stamp.astimezone(UTC)  # naive stamps are the server's local time, like ours


def to_runtime_event(conversation_id: ConversationId, raw: dict[str, Any]) -> RuntimeEvent:
    kind = str(raw.get("kind") or "Unknown")
    status: RuntimeStatus | None = None
    if kind == "ConversationStateUpdateEvent" and raw.get("key") == "execution_status":
        status = parse_status(raw.get("value"))
    return RuntimeEvent(
        event_id=str(raw["id"]),
        conversation_id=conversation_id,
        kind=kind,
        source=str(raw.get("source") or "environment"),
        type=_TYPES.get(kind, EventType.OTHER),
        occurred_at=_occurred_at(raw.get("timestamp")),
        payload=raw,
        terminal=status is not None and status.is_terminal,
        status=status,
    )
