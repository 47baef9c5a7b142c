"""The one reader of each conversation's runtime events on this server: stores them, follows
the status and usage they report, runs the callbacks and feeds live subscribers."""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from application.conversations.callbacks import CallbackProcessors, StateChange
from application.conversations.redaction import redact
from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.conversation_coordinator import (
    ConversationCoordinator,
    Lease,
    LeaseLostError,
)
from application.ports.conversation_store import ConversationStore
from domain.conversations.entities import ConversationStatus
from domain.conversations.errors import RuntimeConversationNotFoundError, StaleFenceError
from domain.conversations.value_objects import ConversationId, RuntimeEvent
from domain.ports.conversation_runtime import ConversationRuntime
from domain.shared.errors import InvalidValueError

__all__ = ("ConversationIngest", "usage_of")

_log = logging.getLogger(__name__)

INTERRUPT_KIND = "InterruptEvent"
"""What a hard stop leaves in the log; the runtime calls the conversation paused, we stopped."""


class _GoneError(Exception):
    """The conversation was deleted from our store."""


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def usage_of(event: RuntimeEvent) -> tuple[float, int, int] | None:
    """Cost and prompt/completion tokens, summed over the runtime's LLMs, from a ``stats`` or
    ``full_state`` update; None for any other event."""
    if event.kind != "ConversationStateUpdateEvent":
        return None
    key, value = event.payload.get("key"), event.payload.get("value")
    if not isinstance(value, Mapping):
        return None
    if key == "full_state":
        value = value.get("stats")
    elif key != "stats":
        return None
    metrics = value.get("usage_to_metrics") if isinstance(value, Mapping) else None
    if not isinstance(metrics, Mapping):
        return None
    cost, prompt, completion = 0.0, 0.0, 0.0
    for usage in metrics.values():
        if not isinstance(usage, Mapping):
            continue
        tokens: Mapping[str, Any] = usage.get("accumulated_token_usage") or usage
        cost += _number(usage.get("accumulated_cost"))
        prompt += _number(tokens.get("prompt_tokens"))
        completion += _number(tokens.get("completion_tokens"))
    return cost, int(prompt), int(completion)


class ConversationIngest:
    """Follows conversations: for each, one task that owns its runtime event stream (through
    the coordinator's lease) and resumes after the last event stored, so a restart loses none
    and the event store's dedupe keeps a re-sent one once."""

    def __init__(
        self,
        runtime: ConversationRuntime,
        coordinator: ConversationCoordinator,
        store: ConversationStore,
        clock: Clock,
        processors: CallbackProcessors,
        *,
        retry_delay_s: float = 1.0,
    ) -> None:
        self._runtime = runtime
        self._coordinator = coordinator
        self._store = store
        self._clock = clock
        self._processors = processors
        self._retry_delay_s = retry_delay_s
        self._tasks: dict[ConversationId, asyncio.Task[None]] = {}
        self._resuming: asyncio.Task[None] | None = None

    def follow(self, conversation_id: ConversationId) -> None:
        """Start following, unless this server already does."""
        task = self._tasks.get(conversation_id)
        if task is None or task.done():
            self._tasks[conversation_id] = asyncio.create_task(
                self._run(conversation_id), name=f"ingest-{conversation_id}"
            )

    async def follow_unfinished(self) -> int:
        """Follow every conversation whose runtime may still send events (at start-up)."""
        async with self._store.transaction() as tx:
            found = await tx.conversations.unfinished()
        for conversation_id in found:
            self.follow(conversation_id)
        return len(found)

    def follow_unfinished_soon(self) -> None:
        """``follow_unfinished`` in the background, again and again while the store is
        unavailable, so a server starts even when its database is down."""

        async def keep_trying() -> None:
            while True:
                try:
                    await self.follow_unfinished()
                except DependencyUnavailableError as exc:
                    _log.warning("unfinished conversations not followed yet: %s", exc)
                    await asyncio.sleep(self._retry_delay_s * 5)
                else:
                    return

        if self._resuming is None or self._resuming.done():
            self._resuming = asyncio.create_task(keep_trying(), name="ingest-resume")

    async def forget(self, conversation_id: ConversationId) -> None:
        task = self._tasks.pop(conversation_id, None)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def aclose(self) -> None:
        tasks = [task for task in self._tasks.values() if not task.done()]
        if self._resuming is not None and not self._resuming.done():
            tasks.append(self._resuming)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _run(self, conversation_id: ConversationId) -> None:
        lease = await self._coordinator.acquire(conversation_id)
        if lease is None:
            return
        delay = self._retry_delay_s
        try:
            while True:
                try:
                    await self._consume(lease)
                except DependencyUnavailableError as exc:
                    _log.warning("conversation %s events unavailable: %s", conversation_id, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
                else:
                    return
        except (_GoneError, RuntimeConversationNotFoundError, LeaseLostError, StaleFenceError):
            return
        except Exception:  # noqa: BLE001  # a task's failure is logged, never lost
            _log.exception("ingest of conversation %s failed", conversation_id)
        finally:
            with contextlib.suppress(Exception):
                await self._coordinator.release(lease)

    async def _consume(self, lease: Lease) -> None:
        async with self._store.transaction() as tx:
            last = await tx.events.last(lease.conversation_id)
        after = None if last is None else last.event_id
        try:
            await self._read(lease, after)
        except InvalidValueError:
            if after is None:
                raise
            await self._read(lease, None)  # the runtime lost the event we stopped at: dedupe

    async def _read(self, lease: Lease, after: str | None) -> None:
        stream = self._runtime.events(lease.conversation_id, after=after)
        async with contextlib.aclosing(stream):
            async for event in stream:
                await self._ingest(lease, event)

    async def _ingest(self, lease: Lease, event: RuntimeEvent) -> None:
        await self._coordinator.ensure_current(lease)
        now = self._clock.now()
        async with self._store.transaction() as tx:
            kept = dataclasses.replace(event, payload=redact(event.payload))
            stored = await tx.events.append(lease.conversation_id, [kept], fence=lease.fence)
            if not stored:
                return
            conversation = await tx.conversations.get_for_owner(lease.conversation_id)
            if conversation is None:
                raise _GoneError
            previous = conversation.status
            changed = False
            if event.kind == INTERRUPT_KIND:
                changed = conversation.can_become(ConversationStatus.STOPPED) and (
                    conversation.transition(ConversationStatus.STOPPED, now)
                )
            elif event.status is not None:
                changed = conversation.follow_runtime(event.status, now)
            usage = usage_of(event)
            touched = usage is not None and conversation.record_usage(
                cost_usd=usage[0], prompt_tokens=usage[1], completion_tokens=usage[2], now=now
            )
            if changed:
                change = StateChange(
                    conversation=conversation,
                    previous=previous,
                    at=event.occurred_at,
                    events=stored,
                    tx=tx,
                )
                await self._processors.run(change, now)
            if changed or touched:
                await tx.conversations.save(conversation)
            await tx.uow.commit()
        await self._coordinator.publish(lease.conversation_id, stored)
