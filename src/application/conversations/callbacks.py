"""Processors a conversation runs when its status changes, each keeping its own state."""

import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from application.analytics import ProductAnalytics
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import (
    CallbackStatus,
    Conversation,
    ConversationStatus,
    ConversationTitle,
    EventCallback,
    StoredEvent,
)

__all__ = (
    "DEFAULT_CALLBACKS",
    "CallbackProcessor",
    "CallbackProcessors",
    "RecordActiveSeconds",
    "ReportConversationFinished",
    "SetTitleFromFirstMessage",
    "StateChange",
    "first_user_text",
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChange:
    conversation: Conversation
    """Mutable: processors may change it; the ingest saves it after them."""
    previous: ConversationStatus
    at: datetime
    events: Sequence[StoredEvent]
    """Stored in the same append as the change."""
    tx: UnitOfWork
    message_text: Callable[[StoredEvent], str | None]
    """The runtime's reading of one of its stored events: the text of a user's message."""


class CallbackProcessor(Protocol):
    name: str

    @abstractmethod
    async def on_state_change(self, callback: EventCallback, change: StateChange) -> None:
        """Act; change ``callback.state`` or mark it completed."""


def first_user_text(
    events: Sequence[StoredEvent], message_text: Callable[[StoredEvent], str | None]
) -> str | None:
    return next(filter(None, map(message_text, events)), None)


class SetTitleFromFirstMessage(CallbackProcessor):
    """Titles an untitled conversation after its first message, then completes."""

    name = "set_title"

    async def on_state_change(self, callback: EventCallback, change: StateChange) -> None:
        conversation = change.conversation
        if conversation.title is None:
            text = first_user_text(change.events, change.message_text) or first_user_text(
                await change.tx.events.list_after(conversation.id_, 0, 50), change.message_text
            )
            title = None if text is None else ConversationTitle.from_message(text)
            if title is None:
                return
            await change.tx.conversations.rename(conversation.tenant, conversation.id_, title)
            conversation.title = title
        callback.status = CallbackStatus.COMPLETED


class RecordActiveSeconds(CallbackProcessor):
    """Adds up the time a conversation spends running, from the runtime's own timestamps."""

    name = "active_seconds"

    async def on_state_change(self, callback: EventCallback, change: StateChange) -> None:
        since = callback.state.get("running_since")
        if change.conversation.status is ConversationStatus.RUNNING:
            if since is None:
                callback.state = {**callback.state, "running_since": change.at.isoformat()}
            return
        if since is not None:
            elapsed = (change.at - datetime.fromisoformat(str(since))).total_seconds()
            change.conversation.active_seconds += max(elapsed, 0.0)
            callback.state = {**callback.state, "running_since": None}


class ReportConversationFinished(CallbackProcessor):
    """Reports ``conversation_finished``, with its status, each time the conversation ends
    (finished, failed or stopped; again after a resume), to the product analytics, which
    send it only with its owner's consent. Never completes. Without analytics, does nothing."""

    name = "analytics"

    def __init__(self, analytics: ProductAnalytics | None) -> None:
        self._analytics = analytics

    async def on_state_change(self, callback: EventCallback, change: StateChange) -> None:
        del callback
        if self._analytics is None:
            return
        if change.conversation.status.ended and not change.previous.ended:
            await self._analytics.conversation_finished(change.tx, change.conversation)


DEFAULT_CALLBACKS = (
    SetTitleFromFirstMessage.name,
    RecordActiveSeconds.name,
    ReportConversationFinished.name,
)
"""What every new conversation runs."""


class CallbackProcessors:
    """The processors by name; a callback naming none of them is marked failed."""

    def __init__(
        self,
        processors: Sequence[CallbackProcessor] | None = None,
        *,
        analytics: ProductAnalytics | None = None,
    ) -> None:
        found = processors or (
            SetTitleFromFirstMessage(),
            RecordActiveSeconds(),
            ReportConversationFinished(analytics),
        )
        self._by_name: dict[str, CallbackProcessor] = {p.name: p for p in found}

    async def run(self, change: StateChange, now: datetime) -> None:
        for callback in await change.tx.callbacks.active_for(change.conversation.id_):
            processor = self._by_name.get(callback.processor)
            before: tuple[CallbackStatus, dict[str, Any]] = (callback.status, callback.state)
            try:
                if processor is None:
                    raise LookupError(f"no callback processor {callback.processor!r}")  # noqa: TRY301
                await processor.on_state_change(callback, change)
            except Exception as exc:  # noqa: BLE001  # one failing callback must not stop others
                _log.warning("conversation callback %s failed: %s", callback.processor, exc)
                callback.status = CallbackStatus.ERROR
                callback.state = {**callback.state, "error": str(exc)[:500]}
            if (callback.status, callback.state) != before:
                callback.updated_at = now
                await change.tx.callbacks.save(callback)
