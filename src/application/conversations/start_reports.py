"""What a conversation's start tells: each phase as it begins and a failure with its reason,
on the conversation (``startPhase``, ``statusReason``) and as events in its log, so a socket
opened on it, now or later, sees the start go by; and the starts that go on after their
request was answered."""

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from application.conversations.callbacks import CallbackProcessors, StateChange
from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.event_fan_out import EventFanOut
from application.ports.metrics import ConversationFailure, Metrics
from application.ports.unit_of_work import UnitsOfWork
from application.tasks import cancel_and_wait
from domain.conversations.entities import Conversation, StoredEvent
from domain.conversations.value_objects import (
    ConversationId,
    RuntimeEvent,
    StartPhase,
    start_failed_note,
    start_phase_note,
)

__all__ = ("START_CUT_OFF", "START_INTERRUPTED", "StartReports", "StartsInProgress")

_log = logging.getLogger(__name__)

START_INTERRUPTED = "The server starting it stopped before the start finished; start it again."
"""Why a start this server was running when it stopped failed."""
START_CUT_OFF = (
    "The start was cut off: the server starting it stopped or failed before it was ready. "
    "Start it again."
)
"""Why a start found unfinished past its time bound (its server died) failed."""


class StartReports:
    """Records a start's progress on the conversation and in its events, in one transaction,
    then tells the conversation's watchers on every server."""

    def __init__(
        self,
        store: UnitsOfWork,
        fan_out: EventFanOut,
        clock: Clock,
        metrics: Metrics,
        processors: CallbackProcessors,
        message_text: Callable[[StoredEvent], str | None],
    ) -> None:
        self._store = store
        self._fan_out = fan_out
        self._clock = clock
        self._metrics = metrics
        self._processors = processors
        self._message_text = message_text

    def first(self, conversation: Conversation) -> RuntimeEvent:
        """The note of the phase a new conversation starts in, to store with it."""
        phase = conversation.start_phase or StartPhase.WAITING_FOR_SANDBOX
        return start_phase_note(conversation.id_, phase, conversation.created_at)

    async def entered(self, conversation: Conversation, phase: StartPhase) -> None:
        now = self._clock.now()
        if conversation.enter_phase(phase, now):
            await self._save(conversation, start_phase_note(conversation.id_, phase, now))

    async def failed(self, conversation: Conversation, reason: str) -> None:
        """Fail the start, saying why; a conversation that cannot fail any more is saved as
        it is. The conversation's callbacks see the failure as they see a run's end (in the
        transaction that records it), so what waits for the conversation to end hears of it."""
        now = self._clock.now()
        previous = conversation.status
        if not conversation.fail(reason, now):
            await self._save(conversation, None)
            return
        note = start_failed_note(
            conversation.id_, conversation.start_phase, conversation.status_reason or reason, now
        )
        async with self._store.begin() as tx:
            stored = await tx.events.append(conversation.id_, [note], fence=None)
            if conversation.status is not previous:
                change = StateChange(
                    conversation=conversation,
                    previous=previous,
                    at=now,
                    events=stored,
                    tx=tx,
                    message_text=self._message_text,
                )
                await self._processors.run(change, now)
            await tx.conversations.save(conversation)
            await tx.commit()
        await self.announce(conversation.id_, stored)
        self._metrics.conversation_failed(ConversationFailure.START)

    async def announce(
        self, conversation_id: ConversationId, stored: Sequence[StoredEvent]
    ) -> None:
        """Hand stored notes to the watchers; with the fan-out away they read them from the
        store with the next event, or when they reconnect."""
        if not stored:
            return
        try:
            await self._fan_out.publish(conversation_id, stored)
        except DependencyUnavailableError as exc:
            _log.warning("start of conversation %s not announced: %s", conversation_id, exc)

    async def _save(self, conversation: Conversation, note: RuntimeEvent | None) -> None:
        async with self._store.begin() as tx:
            await tx.conversations.save(conversation)
            stored = (
                [] if note is None else await tx.events.append(conversation.id_, [note], fence=None)
            )
            await tx.commit()
        await self.announce(conversation.id_, stored)


class StartsInProgress:
    """Starts that go on after their request was answered (``Prefer: respond-async``), each
    a task of this server's. When the server stops, each is cancelled and fails, saying so,
    within ``close_timeout_s``; one cut off by a crash is failed by the ingest once it is past
    the start's time bound."""

    def __init__(self, *, close_timeout_s: float = 5.0) -> None:
        self._close_timeout_s = close_timeout_s
        self._tasks: set[asyncio.Task[None]] = set()

    def launch(self, conversation_id: ConversationId, start: Coroutine[Any, Any, object]) -> None:
        async def run() -> None:
            try:
                await start
            except Exception as exc:  # noqa: BLE001  # the start recorded why it failed
                _log.info("conversation %s did not start: %s", conversation_id, exc)

        task = asyncio.create_task(run(), name=f"start-{conversation_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        """Cancel every start once, so each records its failure, and wait for them; cancel
        again until they end what they have not ended by then."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._close_timeout_s)
            await cancel_and_wait(*pending, timeout_s=self._close_timeout_s)
