"""The one reader of each conversation's runtime events on this server: stores them, follows
the status and usage they report, runs the callbacks and feeds live subscribers."""

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import random
from collections.abc import Mapping
from typing import Any

from application.billing import UsageAccounting
from application.conversations.callbacks import CallbackProcessors, StateChange
from application.conversations.start_reports import START_CUT_OFF, StartReports
from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.event_fan_out import EventFanOut
from application.ports.ingest_leases import IngestLeases, Lease, LeaseLostError
from application.ports.metrics import ConversationFailure, Metrics
from application.ports.unit_of_work import UnitsOfWork
from application.tasks import cancel_and_wait
from domain.conversations.entities import ConversationStatus, StoredEvent
from domain.conversations.errors import RuntimeConversationNotFoundError, StaleFenceError
from domain.conversations.value_objects import (
    ConversationId,
    EventType,
    RuntimeEvent,
    StartPhase,
)
from domain.shared.errors import InvalidValueError

__all__ = ("UNSTORED_KIND", "ConversationIngest")

_log = logging.getLogger(__name__)

_RECANCEL_S = 1.0
"""How long ``aclose`` gives a cancelled task to end before it cancels it again."""

_MAX_RETRY_DELAY_S = 5.0
"""The longest wait between two tries of what an outage refused: the events the runtime held
meanwhile are stored at most this long after the outage ends."""

_SWEEP_BATCH = 100
"""Orphans one sweep takes up at most; the next sweep takes the rest."""


UNSTORED_KIND = "UnstoredEvent"
"""What takes the place of a runtime event the store refused, so the events after it follow."""


RUNTIME_LOST = (
    "The runtime no longer holds this conversation (it was lost when its runtime restarted or "
    "was replaced); its events up to then are kept. Start a new conversation to go on."
)
"""The status reason of a conversation whose runtime answers that it does not know it."""

_AWAITING_RUNTIME = frozenset(
    {
        ConversationStatus.RUNNING,
        ConversationStatus.IDLE,
        ConversationStatus.PAUSED,
        ConversationStatus.WAITING_FOR_CONFIRMATION,
    }
)
"""Where a conversation whose runtime lost it is marked so. One still ``starting`` is left
alone (its start may not have reached the runtime yet), and one that ended stays as it ended."""


class _GoneError(Exception):
    """The conversation was deleted from our store."""


class _HandOverError(Exception):
    """This server could not store the conversation's events for too long: another one may."""


_PASS_THROUGH = (
    DependencyUnavailableError,
    _GoneError,
    _HandOverError,
    LeaseLostError,
    StaleFenceError,
    RuntimeConversationNotFoundError,
)
"""Failures that are not the event's: waited out, or the end of following."""


def _stand_in(event: RuntimeEvent, error: Exception) -> RuntimeEvent:
    """An event the store takes whatever the refused one held: a fixed kind, an id derived
    from the original's (the same on a re-read, so it is kept once), and the original's id,
    kind and status in its JSON, which stores any text."""
    digest = hashlib.sha256(event.event_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return dataclasses.replace(
        event,
        event_id=f"unstored-{digest}",
        kind=UNSTORED_KIND,
        source="environment",
        type=EventType.ERROR,
        payload={
            "kind": UNSTORED_KIND,
            "id": f"unstored-{digest}",
            "original_id": event.event_id,
            "original_kind": event.kind,
            "status": None if event.status is None else event.status.value,
            "reason": f"The event could not be stored ({type(error).__name__}).",
        },
    )


def well_formed(value: Any) -> Any:
    """``value`` with each lone surrogate (a JSON ``\\ud800`` escape with no pair) replaced by
    U+FFFD: no UTF-8 answer or socket frame can carry one. Everything else, NULs included,
    stays as it came."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, Mapping):
        return {well_formed(key): well_formed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [well_formed(item) for item in value]
    return value


class ConversationIngest:
    """Follows conversations: for each, one task that owns its runtime event stream (through
    its ingest lease) and resumes after the last event stored, so a restart loses none
    and the event store's dedupe keeps a re-sent one once.

    A conversation that has ended (finished, failed, stopped) is let go once its runtime has
    sent nothing for ``quiet_s``: it holds no stream, so an idle sandbox can stop; whatever
    sets it working again (a message, a resume) follows it again from its last stored event."""

    def __init__(
        self,
        runtime: ConversationRuntime,
        leases: IngestLeases,
        fan_out: EventFanOut,
        store: UnitsOfWork,
        clock: Clock,
        processors: CallbackProcessors,
        *,
        metrics: Metrics,
        accounting: UsageAccounting,
        retry_delay_s: float = 1.0,
        close_timeout_s: float = 10.0,
        sweep_every_s: float = 0.5,
        reconcile_every_s: float = 30.0,
        lease_check_s: float = 1.0,
        patience_s: float = 2.0,
        quiet_s: float = 5.0,
        start_bound_s: float = 960.0,
    ) -> None:
        self._runtime = runtime
        self._leases = leases
        self._fan_out = fan_out
        self._store = store
        self._clock = clock
        self._processors = processors
        self._metrics = metrics
        self._accounting = accounting
        self._retry_delay_s = retry_delay_s
        self._close_timeout_s = close_timeout_s
        self._sweep_every_s = sweep_every_s
        self._reconcile_every_s = reconcile_every_s
        self._lease_check_s = lease_check_s
        self._patience_s = patience_s
        self._quiet_s = quiet_s
        self._start_bound_s = start_bound_s
        self._reports = StartReports(
            store, fan_out, clock, metrics, processors, runtime.message_text
        )
        self._stored_at: dict[ConversationId, float] = {}
        self._ended: set[ConversationId] = set()
        """Followed conversations whose last stored event left them ended."""
        self._tasks: dict[ConversationId, asyncio.Task[None]] = {}
        self._asked: dict[ConversationId, int] = {}
        """How often each conversation was asked to be followed while its task ran."""
        self._resuming: asyncio.Task[None] | None = None
        self._sweeping: asyncio.Task[None] | None = None
        self._jitter = random.Random()  # noqa: S311  # spreads sweeps; its own, not the module's

    def follow(self, conversation_id: ConversationId, *, adopt: bool = False) -> None:
        """Start following, unless this server already does. ``adopt``: a conversation nobody
        asked about (found unfinished or orphaned), followed only while it has not ended."""
        self._asked[conversation_id] = self._asked.get(conversation_id, 0) + 1
        task = self._tasks.get(conversation_id)
        if task is None or task.done():
            self._tasks[conversation_id] = asyncio.create_task(
                self._run_while_asked(conversation_id, adopt=adopt),
                name=f"ingest-{conversation_id}",
            )

    async def _run_while_asked(self, conversation_id: ConversationId, *, adopt: bool) -> None:
        """``_run``, again when it found the conversation's start short of the runtime and a
        follow was asked for meanwhile: the start, done, asked while this task still ran, so
        that follow started nothing of its own."""
        try:
            while True:
                asked = self._asked.get(conversation_id, 0)
                if await self._run(conversation_id, adopt=adopt):
                    return
                if self._asked.get(conversation_id, 0) == asked:
                    return  # nothing between this check and the task's end: no follow is lost
                adopt = False
        finally:
            self._asked.pop(conversation_id, None)
            # Nothing is kept of a conversation no longer followed: a server follows many.
            if self._tasks.get(conversation_id) is asyncio.current_task():
                del self._tasks[conversation_id]

    def following(self, conversation_id: ConversationId) -> bool:
        """Whether this server has a task for the conversation (it may be waiting for its
        lease)."""
        task = self._tasks.get(conversation_id)
        return task is not None and not task.done()

    async def follow_unfinished(self) -> int:
        """Follow every conversation whose runtime may still send events (at start-up, and
        now and then after: what no lease remembers, after Redis lost its data, is found
        here)."""
        async with self._store.begin() as tx:
            found = await tx.conversations.unfinished()
        for conversation_id in found:
            self.follow(conversation_id, adopt=True)
        return len(found)

    async def sweep(self) -> int:
        """Follow every orphan the leases know of (a conversation whose owner stopped or died
        before it ended); answers how many this server now tries to take over."""
        taken = 0
        for conversation_id in await self._leases.orphans(_SWEEP_BATCH):
            if not self.following(conversation_id):
                self.follow(conversation_id, adopt=True)
                taken += 1
        return taken

    def keep_sweeping(self) -> None:
        """Sweep for orphans every ``sweep_every_s`` and read the unfinished conversations
        every ``reconcile_every_s``, in the background until ``aclose``."""

        async def sweeping() -> None:
            loop = asyncio.get_running_loop()
            reconcile_at = loop.time() + self._reconcile_every_s
            unavailable = False
            while True:
                # A little jitter, so servers started together do not sweep in step.
                await asyncio.sleep(self._sweep_every_s * self._jitter.uniform(0.8, 1.2))
                try:
                    await self.sweep()
                    if loop.time() >= reconcile_at:
                        reconcile_at = loop.time() + self._reconcile_every_s
                        await self.follow_unfinished()
                except DependencyUnavailableError as exc:
                    if not unavailable:
                        _log.warning("orphaned conversations not swept: %s", exc)
                    unavailable = True
                else:
                    unavailable = False

        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.create_task(sweeping(), name="ingest-sweep")

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

    async def unfinished_followed(self) -> None:
        """Returns once ``follow_unfinished_soon`` has found what a previous run left
        unfinished (at once if it was never asked to)."""
        if self._resuming is not None:
            await asyncio.shield(self._resuming)

    async def forget(self, conversation_id: ConversationId) -> None:
        task = self._tasks.pop(conversation_id, None)
        if task is not None:
            await cancel_and_wait(task, recancel_every_s=_RECANCEL_S)

    async def aclose(self) -> None:
        """Stop following, within ``close_timeout_s``: cancel every task and wait for it.
        A cancellation can be lost (Python 3.11's ``asyncio.wait_for``, which the Redis client
        awaits on every send, returns a result that arrives with it), so a task still running
        after a moment is cancelled again; one still running at the deadline is left, logged,
        its lease to expire."""
        pending = {task for task in self._tasks.values() if not task.done()}
        for background in (self._resuming, self._sweeping):
            if background is not None and not background.done():
                pending.add(background)
        self._tasks.clear()
        left = await cancel_and_wait(
            *pending, recancel_every_s=_RECANCEL_S, timeout_s=self._close_timeout_s
        )
        if left:
            _log.error(
                "%d ingest tasks did not stop: %s",
                len(left),
                ", ".join(sorted(task.get_name() for task in left)),
            )

    async def _run(self, conversation_id: ConversationId, *, adopt: bool) -> bool:
        """Follow the conversation as long as there is anything to read; False when its start
        has not reached the runtime yet (nothing to read before the start follows it)."""
        lease = await self._acquire(conversation_id)
        if lease is None:
            return True  # another server follows it
        finished = True
        try:
            if not await self._readable(lease, adopt=adopt):
                return False
            await self._follow(lease)
        except asyncio.CancelledError:
            finished = False  # stopped before the conversation ended: an orphan for the others
            raise
        except (LeaseLostError, StaleFenceError):
            finished = False  # another's now; releasing it is a no-op
            _log.warning(
                "conversation %s is followed by another server now: this one's lease was lost",
                conversation_id,
            )
        except _HandOverError as exc:
            finished = False  # an orphan: a server that reaches what this one cannot takes it
            _log.warning("conversation %s handed over: %s", conversation_id, exc)
        finally:
            self._stored_at.pop(conversation_id, None)
            self._ended.discard(conversation_id)
            with contextlib.suppress(Exception):
                await self._leases.release(lease, finished=finished)
        return True

    async def _acquire(self, conversation_id: ConversationId) -> Lease | None:
        """The conversation's lease, waiting out an unavailable lease store (a conversation
        started while Redis is down is followed once it is back); None if another owns it."""
        delay = self._retry_delay_s
        while True:
            try:
                return await self._leases.acquire(conversation_id)
            except DependencyUnavailableError as exc:
                _log.warning("conversation %s not followed yet: %s", conversation_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_RETRY_DELAY_S)

    async def _readable(self, lease: Lease, *, adopt: bool) -> bool:
        """Whether the conversation's runtime events are there to read: it exists, its start
        has reached the runtime, and, ``adopt``ed, it has not ended (a later message follows
        it again). A start short of the runtime past ``start_bound_s`` since its last phase
        was cut off with its server, and fails here."""
        try:
            async with self._store.begin() as tx:
                conversation = await tx.conversations.get_for_owner(lease.conversation_id)
        except DependencyUnavailableError as exc:
            if not adopt:
                return True  # asked for: read the runtime, waiting out the store when storing
            # Not holding a lease this server cannot use: one that reaches the store takes it.
            raise _HandOverError(f"its store cannot be read ({exc})") from exc
        if conversation is None:
            return False
        if conversation.status is ConversationStatus.STARTING and conversation.start_phase not in (
            None,
            StartPhase.READY,
        ):
            since = (self._clock.now() - conversation.updated_at).total_seconds()
            if since > self._start_bound_s:
                await self._leases.ensure_current(lease)
                await self._reports.failed(conversation, START_CUT_OFF)
            return False  # the start follows it once the runtime holds it
        return not (adopt and conversation.status.ended)

    async def _follow(self, lease: Lease) -> None:
        """Store the conversation's events, waiting out outages; one that stores nothing for
        ``patience_s`` hands the conversation over (``_HandOverError``), since another server
        may reach what this one cannot."""
        delay = self._retry_delay_s
        loop = asyncio.get_running_loop()
        failing_since: float | None = None
        try:
            while True:
                try:
                    await self._consume(lease)
                except DependencyUnavailableError as exc:
                    now = loop.time()
                    stored_at = self._stored_at.get(lease.conversation_id)
                    if failing_since is None or (
                        stored_at is not None and stored_at > failing_since
                    ):
                        failing_since = now
                    elif now - failing_since >= self._patience_s:
                        raise _HandOverError(
                            f"nothing stored for {now - failing_since:.0f} s ({exc})"
                        ) from exc
                    _log.warning(
                        "conversation %s events unavailable: %s", lease.conversation_id, exc
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _MAX_RETRY_DELAY_S)
                else:
                    return
        except RuntimeConversationNotFoundError:
            await self._give_up(lease, RUNTIME_LOST, only=_AWAITING_RUNTIME)
        except _GoneError:
            return
        except (LeaseLostError, StaleFenceError, _HandOverError):
            raise
        except Exception as exc:  # noqa: BLE001  # a task's failure is logged, never lost
            _log.exception("ingest of conversation %s failed", lease.conversation_id)
            await self._give_up(
                lease,
                "The server stopped following this conversation: its events could not be read "
                f"or stored ({type(exc).__name__}).",
            )

    async def _consume(self, lease: Lease) -> None:
        async with self._store.begin() as tx:
            last = await tx.events.last(lease.conversation_id)
        after = None if last is None else last.event_id
        try:
            await self._read(lease, after)
        except InvalidValueError:
            if after is None:
                raise
            await self._read(lease, None)  # the runtime lost the event we stopped at: dedupe

    async def _read(self, lease: Lease, after: str | None) -> None:
        """Store the runtime's events after ``after`` until the stream ends; raises
        ``LeaseLostError`` as soon as the lease is known lost, even while the runtime sends
        nothing (a conversation another server finished while this one was cut off)."""
        reading = asyncio.create_task(self._read_stream(lease, after))
        try:
            while True:
                done, _ = await asyncio.wait([reading], timeout=self._lease_check_s)
                if done:
                    return reading.result()
                if not self._leases.still_held(lease):
                    raise LeaseLostError
        finally:
            await cancel_and_wait(reading)

    async def _read_stream(self, lease: Lease, after: str | None) -> None:
        """Store what the stream sends; return when it ends, or once the conversation has
        ended and the runtime has sent nothing more for ``quiet_s``."""
        cid = lease.conversation_id
        stream = self._runtime.events(cid, after=after)
        async with contextlib.aclosing(stream):
            events = aiter(stream)
            while True:
                ended = cid in self._ended
                try:
                    async with asyncio.timeout(self._quiet_s if ended else None):
                        event = await anext(events)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    if ended:
                        return  # let go: nothing more comes until someone acts on it
                    raise
                await self._ingest(lease, event)

    async def _give_up(
        self, lease: Lease, reason: str, *, only: frozenset[ConversationStatus] | None = None
    ) -> None:
        """Following ended for good: the conversation says why in its status, not ``running``
        (with ``only``, only from those statuses)."""
        try:
            await self._leases.ensure_current(lease)
            async with self._store.begin() as tx:
                conversation = await tx.conversations.get_for_owner(lease.conversation_id)
                if conversation is None or (only is not None and conversation.status not in only):
                    return
                previous, now = conversation.status, self._clock.now()
                if not conversation.fail(reason, now):
                    return
                if conversation.status is not previous:
                    change = StateChange(
                        conversation=conversation,
                        previous=previous,
                        at=now,
                        events=(),
                        tx=tx,
                        message_text=self._runtime.message_text,
                    )
                    await self._processors.run(change, now)
                await tx.conversations.save(conversation)
                await tx.commit()
            self._count_failure(previous, conversation.status)
        except LeaseLostError:
            return  # another server follows it now
        except Exception:  # noqa: BLE001  # nothing more to try; the failure is logged
            _log.exception("conversation %s could not be marked failed", lease.conversation_id)

    def _count_failure(self, previous: ConversationStatus, now: ConversationStatus) -> None:
        if now is ConversationStatus.ERROR and previous is not ConversationStatus.ERROR:
            starting = previous is ConversationStatus.STARTING
            self._metrics.conversation_failed(
                ConversationFailure.START if starting else ConversationFailure.RUN
            )

    async def _ingest(self, lease: Lease, event: RuntimeEvent) -> None:
        await self._leases.ensure_current(lease)
        try:
            stored = await self._apply(lease, event)
        except _PASS_THROUGH:
            raise
        except Exception as exc:  # noqa: BLE001  # one bad event must not stop the ones after it
            _log.warning(
                "event %s of conversation %s could not be stored; a stand-in takes its place",
                event.event_id,
                lease.conversation_id,
                exc_info=exc,
            )
            stored = await self._apply(lease, _stand_in(event, exc), original=event)
        if stored:
            self._stored_at[lease.conversation_id] = asyncio.get_running_loop().time()
            await self._fan_out.publish(lease.conversation_id, stored)

    async def _apply(
        self, lease: Lease, event: RuntimeEvent, *, original: RuntimeEvent | None = None
    ) -> list[StoredEvent]:
        """Store one event and follow what it says, in one transaction; ``original`` is the
        event a stand-in replaces, whose status and usage still count."""
        said = original or event
        now = self._clock.now()
        async with self._store.begin() as tx:
            kept = dataclasses.replace(event, payload=well_formed(event.payload))
            stored = await tx.events.append(lease.conversation_id, [kept], fence=lease.fence)
            if not stored:
                return stored
            conversation = await tx.conversations.get_for_owner(lease.conversation_id)
            if conversation is None:
                raise _GoneError
            previous = conversation.status
            changed = False
            if said.interrupted:
                changed = conversation.can_become(ConversationStatus.STOPPED) and (
                    conversation.transition(ConversationStatus.STOPPED, now)
                )
            elif said.failure is not None:
                changed = conversation.fail(said.failure, now)
            elif said.status is not None:
                changed = conversation.follow_runtime(said.status, now)
            usage = said.usage
            touched = usage is not None and conversation.record_usage(
                cost_usd=usage.cost_usd,
                prompt_tokens=usage.input_tokens,
                completion_tokens=usage.output_tokens,
                now=now,
            )
            hold = None
            if usage is not None:
                hold = await self._accounting.account(tx, conversation, said.event_id, usage, now)
            held = hold is not None and conversation.hold_for_billing(hold, now)
            pause = conversation.status is ConversationStatus.RUNNING and (
                held or (touched and (conversation.budget_spent() or conversation.billing_hold))
            )
            changed = conversation.note_budget_pause(now) or held or changed
            if conversation.status is not previous:
                change = StateChange(
                    conversation=conversation,
                    previous=previous,
                    at=event.occurred_at,
                    events=stored,
                    tx=tx,
                    message_text=self._runtime.message_text,
                )
                await self._processors.run(change, now)
            if changed or touched:
                await tx.conversations.save(conversation)
            await tx.commit()
        self._count_failure(previous, conversation.status)
        if conversation.status.ended:
            self._ended.add(lease.conversation_id)
        else:
            self._ended.discard(lease.conversation_id)
        if pause:
            await self._pause_spent(lease.conversation_id)
        return stored

    async def _pause_spent(self, conversation_id: ConversationId) -> None:
        """Pause a run whose conversation spent its budget; its paused status, when the runtime
        reports it, says why."""
        try:
            await self._runtime.pause(conversation_id)
        except Exception:  # noqa: BLE001  # the next usage report tries again
            _log.exception(
                "conversation %s spent its budget but could not be paused", conversation_id
            )
