"""The ingest, the callbacks and the feed on the scripted runtime and the fake store: every
runtime event stored once, numbered densely; status, usage, title and active seconds followed;
a restart resumes where the last server stopped; a stale owner stops; a feed joins live
events to the backlog with no gap and no duplicate."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory import InProcessEventFanOut, InProcessIngestLeases
from adapters.scripted import Fail, Finish, ScriptedRuntime, ScriptedWorld, Slow, ToolCall
from application.billing import BudgetPolicy, UsageAccounting
from application.conversations import CallbackProcessors, ConversationFeed, ConversationIngest
from application.conversations.callbacks import DEFAULT_CALLBACKS, RecordActiveSeconds, StateChange
from application.conversations.ingest import RUNTIME_LOST, UNSTORED_KIND
from application.conversations.start_reports import START_CUT_OFF
from application.errors import DependencyUnavailableError
from application.ports.event_fan_out import SubscriberTooSlowError
from application.ports.ingest_leases import Lease
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from domain.billing.holds import BillingHold, hold_reason
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.billing.usage import LlmPayer
from domain.conversations.entities import (
    CallbackId,
    CallbackStatus,
    Conversation,
    ConversationStatus,
    EventCallback,
    StoredEvent,
    Tenant,
)
from domain.conversations.errors import ConversationBudgetSpentError
from domain.conversations.value_objects import (
    ConversationId,
    EventType,
    RuntimeEvent,
    RuntimeStatus,
    StartPhase,
    StartSpec,
    TextPart,
    Usage,
)
from domain.shared.ids import new_id
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeClock, FakeStore
from tests.fakes.conversations import FakeEventStore
from tests.fakes.metrics import FakeMetrics
from tests.fakes.unit_of_work import FakeUnitsOfWork
from tests.support.polling import GENEROUS_S, until
from tests.support.refused import Refused


@dataclass
class Rig:
    store: FakeStore
    world: ScriptedWorld
    runtime: ScriptedRuntime
    cid: ConversationId
    metrics: FakeMetrics = field(default_factory=FakeMetrics)

    def ingest(
        self,
        leases: InProcessIngestLeases | None = None,
        store: UnitsOfWork | None = None,
        *,
        close_timeout_s: float = 10.0,
        runtime: ScriptedRuntime | None = None,
        processors: CallbackProcessors | None = None,
        policy: BudgetPolicy | None = None,
        **options: float,
    ) -> ConversationIngest:
        """An ingest on this rig; ``options`` are the ingest's other timings."""
        return ConversationIngest(
            runtime or self.runtime,
            leases or InProcessIngestLeases(),
            InProcessEventFanOut(),
            store or FakeUnitsOfWork(self.store),
            FakeClock(),
            processors or CallbackProcessors(),
            metrics=self.metrics,
            accounting=UsageAccounting(policy or BudgetPolicy()),
            retry_delay_s=0.01,
            close_timeout_s=close_timeout_s,
            **options,
        )

    @property
    def conversation(self) -> Conversation:
        return self.store.committed.conversations[self.cid]

    @property
    def stored(self) -> list[StoredEvent]:
        return list(self.store.committed.events.get(self.cid, []))

    async def until(self, check: Callable[["Rig"], bool]) -> None:
        await until(lambda: check(self), "what the test waits for")

    async def say(self, text: str) -> None:
        await self.runtime.send_message(self.cid, [TextPart(text=text)])


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    store = FakeStore()
    user = create_user()
    org, _ = create_org(user)
    store.live.users[user.id_] = user
    store.live.orgs[org.id_] = org
    cid = ConversationId(new_id())
    store.live.conversations[cid] = Conversation(
        id_=cid, tenant=Tenant(org.id_, user.id_), created_at=T0, updated_at=T0
    )
    for name in DEFAULT_CALLBACKS:
        callback = EventCallback(
            id_=CallbackId(new_id()), conversation_id=cid, processor=name, updated_at=T0
        )
        store.live.callbacks[callback.id_] = callback
    store.commit()
    world = ScriptedWorld()
    runtime = ScriptedRuntime(world)
    await runtime.start(
        StartSpec(conversation_id=cid, model="m", workspace_dir="/w", tools=("terminal",))
    )
    yield Rig(store, world, runtime, cid)
    await world.aclose()


def finished(rig: Rig) -> bool:
    return rig.conversation.status is ConversationStatus.FINISHED


async def test_every_event_is_stored_once_and_the_conversation_follows(rig: Rig) -> None:
    rig.world.script(ToolCall(tool="terminal", output="ok"), Slow(seconds=0.05, then=Finish()))
    ingest = rig.ingest()
    ingest.follow(rig.cid)
    ingest.follow(rig.cid)  # already followed: no second reader
    await rig.say("Please fix the\nflaky test")
    await rig.until(finished)
    await rig.until(lambda r: len(r.stored) == len(r.world.conversations[r.cid].log))
    log = rig.world.conversations[rig.cid].log
    assert [e.event_id for e in rig.stored] == [e.event_id for e in log]
    assert [e.seq for e in rig.stored] == list(range(1, len(log) + 1))
    conversation = rig.conversation
    assert conversation.title is not None
    assert conversation.title.value == "Please fix the"
    assert conversation.active_seconds >= 0.05
    assert all(
        c.status is CallbackStatus.COMPLETED
        for c in rig.store.committed.callbacks.values()
        if c.processor == "set_title"
    )
    await ingest.aclose()


async def test_an_ended_conversation_is_let_go_once_quiet_and_followed_again_on_use(
    rig: Rig,
) -> None:
    """It holds no stream of its runtime while nothing happens (so its sandbox may stop), and
    what sets it working again follows it from its last stored event."""
    rig.world.script(Finish())
    ingest = rig.ingest(quiet_s=0.05)
    ingest.follow(rig.cid)
    await rig.say("Go")
    await rig.until(finished)
    await until(lambda: not ingest.following(rig.cid), "the ended conversation was let go")
    stored = len(rig.stored)

    rig.world.script(Finish(message="again"))
    await rig.say("Once more")
    ingest.follow(rig.cid)  # as sending a message does
    await rig.until(lambda r: len(r.stored) == len(r.world.conversations[r.cid].log))
    assert len(rig.stored) > stored
    assert [e.seq for e in rig.stored] == list(range(1, len(rig.stored) + 1))
    await ingest.aclose()


async def test_a_conversation_let_go_leaves_nothing_behind_in_the_ingest(rig: Rig) -> None:
    """A server follows conversation after conversation for as long as it runs: once one is
    let go, the ingest keeps nothing of it (no task, no count of follows asked for, no time of
    its last stored event, no mark that it ended), and its task ended cleanly."""
    rig.world.script(Finish())
    ingest = rig.ingest(quiet_s=0.05)
    ingest.follow(rig.cid)
    task = ingest._tasks[rig.cid]
    await rig.say("Go")
    await rig.until(finished)
    await until(lambda: not ingest.following(rig.cid), "the ended conversation was let go")

    assert task.done()
    assert task.exception() is None
    assert ingest._tasks == {}
    assert ingest._asked == {}
    assert ingest._stored_at == {}
    assert ingest._ended == set()  # kept, a later follow would let go of a working one
    await ingest.aclose()


async def test_a_conversation_set_working_again_before_it_was_let_go_is_held_while_silent(
    rig: Rig,
) -> None:
    """An ended conversation is let go once quiet; one set working again on the same stream
    is running, and a long silence then (a slow tool) does not let it go."""
    rig.world.script(Finish(), Slow(seconds=30, then=Finish(message="again")))
    leases = ReleaseSignallingLeases()
    ingest = rig.ingest(leases, quiet_s=0.5)
    ingest.follow(rig.cid)
    await rig.say("Go")
    await rig.until(finished)
    await rig.say("Once more")  # on the stream still held: the conversation runs again
    await rig.until(lambda r: r.conversation.status is ConversationStatus.RUNNING)
    with suppress(TimeoutError):  # silent for longer than quiet_s
        async with asyncio.timeout(2):
            await leases.released.wait()
    rig.world.release()
    await rig.until(lambda r: r.world.conversations[r.cid].status.value == "finished")
    async with asyncio.timeout(GENEROUS_S):
        await leases.released.wait()  # let go only once quiet after this end
    assert [e.event_id for e in rig.stored] == [
        e.event_id for e in rig.world.conversations[rig.cid].log
    ]
    await ingest.aclose()


async def test_a_hard_stop_leaves_the_conversation_stopped(rig: Rig) -> None:
    rig.world.script(Slow(seconds=30, then=Finish()))
    ingest = rig.ingest()
    ingest.follow(rig.cid)
    await rig.say("Slowly")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.RUNNING)
    await rig.runtime.stop(rig.cid)
    await rig.until(lambda r: r.conversation.status is ConversationStatus.STOPPED)
    await rig.say("Go on")
    await rig.until(finished)
    await ingest.aclose()


async def test_a_restarted_server_loses_no_event_and_duplicates_none(rig: Rig) -> None:
    rig.world.script(ToolCall(tool="terminal"), Slow(seconds=30, then=ToolCall(tool="terminal")))
    first = rig.ingest()
    first.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: any(e.kind == "ObservationEvent" for e in r.stored))
    await first.aclose()  # the server stops mid-run; the runtime goes on
    before = len(rig.stored)
    emitted = len(rig.world.conversations[rig.cid].log)
    rig.world.release()
    await rig.until(lambda r: len(r.world.conversations[r.cid].log) > emitted)
    assert len(rig.stored) == before

    second = rig.ingest()
    assert await second.follow_unfinished() == 1
    await rig.until(finished)
    log = rig.world.conversations[rig.cid].log
    await rig.until(lambda r: len(r.stored) == len(log))
    assert [e.event_id for e in rig.stored] == [e.event_id for e in log]
    assert [e.seq for e in rig.stored] == list(range(1, len(log) + 1))
    await second.aclose()


class ReleaseSignallingLeases(InProcessIngestLeases):
    """In-process leases that say when a follower gave its lease back, which it does last."""

    def __init__(self) -> None:
        super().__init__()
        self.released = asyncio.Event()

    async def release(self, lease: Lease, *, finished: bool) -> None:
        await super().release(lease, finished=finished)
        self.released.set()


async def test_an_owner_whose_lease_was_taken_over_stores_nothing_more(rig: Rig) -> None:
    rig.world.script(Slow(seconds=30, then=Finish()))
    leases = ReleaseSignallingLeases()
    ingest = rig.ingest(leases)
    ingest.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.RUNNING)
    leases.seize(rig.cid, owner="another-server")
    count = len(rig.stored)
    rig.world.release()
    await rig.until(lambda r: r.world.conversations[r.cid].status.value == "finished")
    async with asyncio.timeout(10):
        await leases.released.wait()  # the follower gave its lease back: it stopped
    assert len(rig.stored) == count
    await ingest.aclose()


async def test_an_owner_whose_fence_a_newer_owner_passed_stores_nothing_more(rig: Rig) -> None:
    """The store's fence is the last guard: an owner whose lease store still says it holds
    the conversation (a paused process, a lease store that lost the newer lease) stores
    nothing once a newer owner has stored with a higher fence, and stops following."""
    rig.world.script(Slow(seconds=30, then=Finish()))
    leases = ReleaseSignallingLeases()
    ingest = rig.ingest(leases)
    ingest.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.RUNNING)
    async with FakeUnitsOfWork(rig.store).begin() as tx:
        newer = _event("MessageEvent", "newer-owners", rig.cid)
        await tx.events.append(rig.cid, [newer], fence=1_000)
        await tx.commit()
    count = len(rig.stored)
    rig.world.release()
    await rig.until(lambda r: r.world.conversations[r.cid].status.value == "finished")
    async with asyncio.timeout(10):
        await leases.released.wait()  # the follower gave its lease back: it stopped
    assert len(rig.stored) == count
    assert rig.stored[-1].event_id == "newer-owners"
    await ingest.aclose()


class RefusingEventStore(FakeEventStore):
    """The fake event store, refusing the kinds of event ``refused`` names, as a database
    refuses a value it cannot hold."""

    def __init__(self, store: FakeStore, refused: frozenset[str]) -> None:
        super().__init__(store)
        self.refused = refused

    async def append(
        self, conversation_id: ConversationId, events: Sequence[RuntimeEvent], *, fence: int | None
    ) -> list[StoredEvent]:
        if any(event.kind in self.refused for event in events):
            raise RuntimeError("the database refused this value")
        return await super().append(conversation_id, events, fence=fence)


class RefusingStore(FakeUnitsOfWork):
    def __init__(self, store: FakeStore, *refused: str) -> None:
        super().__init__(store)
        self.store = store
        self.refused = frozenset(refused)

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        @asynccontextmanager
        async def opened() -> AsyncIterator[UnitOfWork]:
            async with super(RefusingStore, self).begin() as tx:
                tx.events = RefusingEventStore(self.store, self.refused)
                yield tx

        return opened()


async def test_an_event_the_store_refuses_is_replaced_and_the_ones_after_it_follow(
    rig: Rig,
) -> None:
    rig.world.script(ToolCall(tool="terminal", output="\x00binary"), Finish())
    ingest = rig.ingest(store=RefusingStore(rig.store, "ObservationEvent"))
    ingest.follow(rig.cid)
    await rig.say("Cat the binary")
    await rig.until(finished)
    log = rig.world.conversations[rig.cid].log
    await rig.until(lambda r: len(r.stored) == len(log))
    assert [e.seq for e in rig.stored] == list(range(1, len(log) + 1))
    for original, kept in zip(log, rig.stored, strict=True):
        if original.kind == "ObservationEvent":
            assert kept.kind == UNSTORED_KIND
            assert kept.payload["original_id"] == original.event_id
            assert kept.payload["original_kind"] == "ObservationEvent"
            assert "RuntimeError" in kept.payload["reason"]
        else:
            assert kept.event_id == original.event_id
    assert sum(e.kind == UNSTORED_KIND for e in rig.stored) == 2
    await ingest.aclose()


async def test_a_refused_status_event_still_moves_the_conversation(rig: Rig) -> None:
    """The stand-in keeps what the refused event said: its status still counts."""
    rig.world.script(Finish())
    ingest = rig.ingest(store=RefusingStore(rig.store, "ConversationStateUpdateEvent"))
    ingest.follow(rig.cid)
    await rig.say("Go")
    await rig.until(finished)
    assert any(e.kind == UNSTORED_KIND for e in rig.stored)
    assert not any(e.kind == "ConversationStateUpdateEvent" for e in rig.stored)
    await ingest.aclose()


async def test_an_ingest_that_fails_for_good_leaves_the_conversation_in_error(rig: Rig) -> None:
    rig.world.script(ToolCall(tool="terminal"), Finish())
    ingest = rig.ingest(store=RefusingStore(rig.store, "ActionEvent", UNSTORED_KIND))
    ingest.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.ERROR)
    reason = rig.conversation.status_reason
    assert reason is not None
    assert "stopped following" in reason
    assert rig.metrics.counts == {("conversation_failed", "run"): 1}
    assert "RuntimeError" in reason
    assert all(e.kind != "ActionEvent" for e in rig.stored)
    await ingest.aclose()


async def test_a_start_whose_events_cannot_be_stored_is_counted_as_a_failed_start(
    rig: Rig,
) -> None:
    """Given up on before an event said it runs, the conversation fails while starting: the
    failure is counted as the start's, not a run's."""
    rig.world.script(Finish())
    refused = ("MessageEvent", "ConversationStateUpdateEvent", "ActionEvent", UNSTORED_KIND)
    ingest = rig.ingest(store=RefusingStore(rig.store, *refused))
    ingest.follow(rig.cid)
    await rig.say("Go")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.ERROR)
    assert all(e.kind != "ConversationStateUpdateEvent" for e in rig.stored)
    assert rig.metrics.counts == {("conversation_failed", "start"): 1}
    await ingest.aclose()


class _CountedLeases(InProcessIngestLeases):
    """Counts releases: one is the end of an attempt to follow."""

    def __init__(self) -> None:
        super().__init__()
        self.released = 0

    async def release(self, lease: Lease, *, finished: bool) -> None:
        self.released += 1
        await super().release(lease, finished=finished)


def _as_left(rig: Rig, status: ConversationStatus) -> None:
    """The conversation as a server that died left it, standing in ``status``."""
    rig.store.live.conversations[rig.cid].status = status
    rig.store.commit()


@pytest.mark.parametrize(
    "status",
    [
        ConversationStatus.RUNNING,
        ConversationStatus.IDLE,
        ConversationStatus.PAUSED,
        ConversationStatus.WAITING_FOR_CONFIRMATION,
    ],
)
async def test_a_conversation_its_runtime_lost_ends_in_error_saying_so(
    rig: Rig, status: ConversationStatus
) -> None:
    """After a restart the scripted runtime (a new process) knows none of the conversations
    it ran: one the server left working says why it stopped, never ``running`` forever."""
    _as_left(rig, status)
    ingest = rig.ingest(runtime=ScriptedRuntime(ScriptedWorld()))
    ingest.follow(rig.cid)
    await rig.until(lambda r: r.conversation.status is ConversationStatus.ERROR)
    assert rig.conversation.status_reason == RUNTIME_LOST
    await ingest.aclose()


class Witness:
    """A callback processor that notes every state change it is shown."""

    name = RecordActiveSeconds.name

    def __init__(self) -> None:
        self.seen: list[tuple[ConversationStatus, ConversationStatus, int, bool]] = []

    async def on_state_change(self, callback: EventCallback, change: StateChange) -> None:
        del callback
        assert isinstance(change.at, datetime)
        assert callable(change.message_text)
        self.seen.append(
            (change.previous, change.conversation.status, len(change.events), change.tx is not None)
        )


async def test_callbacks_see_each_status_change_once_with_what_it_was_before(rig: Rig) -> None:
    witness = Witness()
    rig.world.script(ToolCall(tool="terminal", output="ok"), Finish())
    ingest = rig.ingest(processors=CallbackProcessors([witness]))
    ingest.follow(rig.cid)
    await rig.say("Go")
    await rig.until(finished)
    await ingest.aclose()
    changes = [(before, after) for before, after, _, _ in witness.seen]
    assert changes == [
        (ConversationStatus.STARTING, ConversationStatus.RUNNING),
        (ConversationStatus.RUNNING, ConversationStatus.FINISHED),
    ]
    assert all(count == 1 and in_tx for _, _, count, in_tx in witness.seen)


async def test_callbacks_see_a_conversation_given_up_as_it_fails(rig: Rig) -> None:
    _as_left(rig, ConversationStatus.RUNNING)
    witness = Witness()
    ingest = rig.ingest(
        runtime=ScriptedRuntime(ScriptedWorld()), processors=CallbackProcessors([witness])
    )
    ingest.follow(rig.cid)
    await rig.until(lambda r: r.conversation.status is ConversationStatus.ERROR)
    await ingest.aclose()
    assert witness.seen == [(ConversationStatus.RUNNING, ConversationStatus.ERROR, 0, True)]


@pytest.mark.parametrize(
    "status",
    [ConversationStatus.STARTING, ConversationStatus.STOPPED, ConversationStatus.FINISHED],
)
async def test_a_lost_runtime_leaves_a_start_in_flight_or_an_ended_conversation_alone(
    rig: Rig, status: ConversationStatus
) -> None:
    """A start may not have reached the runtime yet, and an ended conversation stays as it
    ended."""
    _as_left(rig, status)
    leases = _CountedLeases()
    ingest = rig.ingest(leases, runtime=ScriptedRuntime(ScriptedWorld()))
    ingest.follow(rig.cid)
    await until(lambda: leases.released == 1, "the attempt to follow ended")
    assert rig.conversation.status is status
    assert rig.conversation.status_reason is None
    await ingest.aclose()


class _CountedRuntime(ScriptedRuntime):
    """Counts the streams of events asked of it."""

    asked = 0

    def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        self.asked += 1
        return super().events(conversation_id, after=after)


@pytest.mark.parametrize("adopt", [False, True])
async def test_a_start_short_of_the_runtime_is_not_read_and_fails_once_past_its_bound(
    rig: Rig, adopt: bool
) -> None:
    """A conversation whose start has not reached the runtime is not asked of it (that could
    start a sandbox for nothing; the start follows it when it gets there). Once its last phase
    is older than the start's own bound, its server died with it: it fails, saying so in its
    status and its events."""
    started = rig.store.live.conversations[rig.cid]
    started.start_phase = StartPhase.CLONING
    started.updated_at = T0 - timedelta(seconds=50)
    rig.store.commit()
    leases = _CountedLeases()
    runtime = _CountedRuntime(rig.world)
    ingest = rig.ingest(leases, runtime=runtime, start_bound_s=60)

    ingest.follow(rig.cid, adopt=adopt)
    await until(lambda: leases.released == 1, "the attempt to follow ended")
    assert (rig.conversation.status, runtime.asked) == (ConversationStatus.STARTING, 0)

    rig.store.live.conversations[rig.cid].updated_at = T0 - timedelta(seconds=61)
    rig.store.commit()
    ingest.follow(rig.cid, adopt=adopt)
    await until(lambda: leases.released == 2, "the second attempt ended")
    assert (rig.conversation.status, rig.conversation.status_reason) == (
        ConversationStatus.ERROR,
        START_CUT_OFF,
    )
    assert runtime.asked == 0
    [note] = rig.stored
    assert (note.kind, note.payload["phase"], note.payload["reason"]) == (
        "StartFailed",
        "cloning",
        START_CUT_OFF,
    )
    await ingest.aclose()


class _HeldRelease(_CountedLeases):
    """The first release waits until the test lets it go on."""

    def __init__(self) -> None:
        super().__init__()
        self.releasing = asyncio.Event()
        self.go_on = asyncio.Event()

    async def release(self, lease: Lease, *, finished: bool) -> None:
        if not self.releasing.is_set():
            self.releasing.set()
            await self.go_on.wait()
        await super().release(lease, finished=finished)


async def test_the_starts_follow_is_not_lost_to_a_socket_follow_that_found_it_starting(
    rig: Rig,
) -> None:
    """A socket opened on a starting conversation follows it and finds nothing to read yet;
    the start, done a moment later while that attempt is still letting go of its lease, asks
    again. The ingest follows the conversation then, rather than nobody ever."""
    rig.store.live.conversations[rig.cid].start_phase = StartPhase.CLONING
    rig.store.commit()
    leases = _HeldRelease()
    ingest = rig.ingest(leases)
    ingest.follow(rig.cid)  # the socket's
    await asyncio.wait_for(leases.releasing.wait(), GENEROUS_S)

    started = rig.store.live.conversations[rig.cid]
    started.enter_phase(StartPhase.READY, T0)
    started.follow_runtime(RuntimeStatus.IDLE, T0)
    rig.store.commit()
    ingest.follow(rig.cid)  # the start's, done
    leases.go_on.set()

    rig.world.script(Finish())
    await rig.say("Go")
    await rig.until(finished)
    await rig.until(lambda r: len(r.stored) == len(r.world.conversations[r.cid].log))
    await ingest.aclose()


async def test_a_failed_run_says_why_in_the_conversation_status(rig: Rig) -> None:
    rig.world.script(Fail(code="LLMAuthenticationError", detail="The key was refused."))
    ingest = rig.ingest()
    ingest.follow(rig.cid)
    await rig.say("Work")
    await rig.until(
        lambda r: (
            r.conversation.status is ConversationStatus.ERROR
            and r.conversation.status_reason == "LLMAuthenticationError: The key was refused."
        )
    )
    rig.world.script(Finish())
    await rig.say("Again")
    await rig.until(finished)
    assert rig.conversation.status_reason is None
    await ingest.aclose()


def _event(
    kind: str, event_id: str = "x", conversation_id: ConversationId | None = None, **payload: object
) -> RuntimeEvent:
    return RuntimeEvent(
        event_id=event_id,
        conversation_id=conversation_id or ConversationId(new_id()),
        kind=kind,
        source="environment",
        type=EventType.STATUS,
        occurred_at=datetime.now(UTC),
        payload=payload,
    )


async def test_the_feed_joins_backlog_and_live_with_no_gap_and_no_duplicate(rig: Rig) -> None:
    fan_out = InProcessEventFanOut()
    store = FakeUnitsOfWork(rig.store)
    feed = ConversationFeed(fan_out, store)
    total = 300

    async def produce() -> None:
        for n in range(1, total + 1):
            async with store.begin() as tx:
                event = _event("MessageEvent", f"e{n}", rig.cid, n=n)
                stored = await tx.events.append(rig.cid, [event], fence=1)
                await tx.commit()
            await asyncio.sleep(0)
            await fan_out.publish(rig.cid, stored)

    producer = asyncio.create_task(produce())
    await rig.until(lambda r: len(r.stored) >= 40)
    seen = []
    async for event in feed.events(rig.cid, after=10, buffer=total):
        seen.append(event.seq)
        if event.seq == total:
            break
    await producer
    assert seen == list(range(11, total + 1))


async def test_a_feed_reader_that_falls_behind_is_told_so(rig: Rig) -> None:
    fan_out = InProcessEventFanOut()
    feed = ConversationFeed(fan_out, FakeUnitsOfWork(rig.store))
    reader = feed.events(rig.cid, after=0, buffer=2)

    async def read_all() -> None:
        async for _ in reader:
            pass

    waiting = asyncio.create_task(read_all())
    await until(lambda: fan_out.subscriber_count(rig.cid) == 1, "the reader's subscription")
    batch = [
        StoredEvent(
            conversation_id=rig.cid,
            seq=n,
            event_id=f"e{n}",
            kind="MessageEvent",
            source="agent",
            type=EventType.MESSAGE,
            occurred_at=T0,
            payload={},
        )
        for n in range(1, 6)
    ]
    for event in batch:
        await fan_out.publish(rig.cid, [event])
    with pytest.raises(SubscriberTooSlowError):
        await asyncio.wait_for(waiting, 1)


class ListedRuntime(ScriptedRuntime):
    """A runtime adapter that hands over the neutral events it is given, then ends."""

    def __init__(self, listed: Sequence[RuntimeEvent]) -> None:
        super().__init__()
        self.listed = list(listed)

    async def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        for event in self.listed:
            yield event


def _neutral(rig: Rig, event_id: str, **said: Any) -> RuntimeEvent:
    return RuntimeEvent(
        event_id=event_id,
        conversation_id=rig.cid,
        kind="opaque-kind",
        source="environment",
        type=EventType.STATUS,
        occurred_at=datetime.now(UTC),
        payload={"said": event_id, "nested": [{"n": 1}]},
        **said,
    )


async def _ingest_all(rig: Rig, listed: list[RuntimeEvent]) -> None:
    rig.runtime = ListedRuntime(listed)
    ingest = rig.ingest()
    ingest.follow(rig.cid)
    await rig.until(lambda r: len(r.stored) == len(listed))
    await ingest.aclose()


async def test_the_ingest_follows_status_and_usage_from_neutral_events_alone(rig: Rig) -> None:
    """No runtime JSON is read: the status, the usage totals and the hard stop come from the
    event's own fields, and its payload is stored as the adapter handed it over."""
    listed = [
        _neutral(rig, "a", status=RuntimeStatus.RUNNING),
        _neutral(rig, "b", usage=Usage(input_tokens=100, output_tokens=20, cost_usd=0.5)),
        _neutral(rig, "c", usage=Usage(input_tokens=90, output_tokens=30, cost_usd=0.25)),
        _neutral(rig, "d", status=RuntimeStatus.PAUSED),
        _neutral(rig, "e", interrupted=True),
    ]
    await _ingest_all(rig, listed)
    conversation = rig.conversation
    assert conversation.status is ConversationStatus.STOPPED
    assert (conversation.prompt_tokens, conversation.completion_tokens) == (100, 30)
    assert conversation.cost_usd == 0.5
    assert [e.payload for e in rig.stored] == [e.payload for e in listed]
    assert [e.kind for e in rig.stored] == ["opaque-kind"] * len(listed)


async def test_a_neutral_failure_fails_the_conversation_with_its_reason(rig: Rig) -> None:
    listed = [
        _neutral(rig, "a", status=RuntimeStatus.RUNNING),
        _neutral(rig, "b", status=RuntimeStatus.ERROR, terminal=True),
        _neutral(rig, "c", failure="QuotaExceeded: no credit left"),
    ]
    await _ingest_all(rig, listed)
    assert rig.conversation.status is ConversationStatus.ERROR
    assert rig.conversation.status_reason == "QuotaExceeded: no credit left"
    assert rig.metrics.counts == {("conversation_failed", "run"): 1}


class CancellationLosingLeases(InProcessIngestLeases):
    """Leases whose ``acquire`` waits for an answer that never comes and loses the first
    ``lose`` cancellations that reach it: with ``answer``, it answers on the first, as Python
    3.11's ``asyncio.wait_for`` does when the answer arrives with the cancellation; without,
    it goes on waiting."""

    def __init__(self, *, lose: int, answer: bool) -> None:
        super().__init__()
        self.lose = lose
        self.answer = answer
        self.lost = 0
        self.waiting = asyncio.Event()

    async def acquire(self, conversation_id: ConversationId) -> Lease | None:
        self.waiting.set()
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if self.lost >= self.lose:
                    raise
                self.lost += 1
                if self.answer:
                    return await super().acquire(conversation_id)


async def test_closing_ends_a_task_that_lost_its_cancellation(rig: Rig) -> None:
    """The task follows on after its lost cancellation, to wait for the runtime's next
    event; closing cancels it again, and ends."""
    leases = CancellationLosingLeases(lose=1, answer=True)
    sut = rig.ingest(leases)
    sut.follow(rig.cid)
    async with asyncio.timeout(GENEROUS_S):
        await leases.waiting.wait()
    try:
        async with asyncio.timeout(GENEROUS_S):
            await sut.aclose()
    except TimeoutError:
        raise AssertionError("closing waits for a task that lost its cancellation") from None
    assert leases.lost == 1


async def test_closing_gives_up_on_a_task_that_will_not_end(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    leases = CancellationLosingLeases(lose=1_000_000, answer=False)
    sut = rig.ingest(leases, close_timeout_s=0.1)
    sut.follow(rig.cid)
    async with asyncio.timeout(GENEROUS_S):
        await leases.waiting.wait()
    try:
        async with asyncio.timeout(GENEROUS_S):
            await sut.aclose()
    except TimeoutError:
        raise AssertionError("closing waits for a task that will not end") from None
    assert f"1 ingest tasks did not stop: ingest-{rig.cid}" in caplog.text
    leases.lose = 0
    [stubborn] = [t for t in asyncio.all_tasks() if t.get_name() == f"ingest-{rig.cid}"]
    stubborn.cancel()
    await asyncio.wait([stubborn])


# --- orphans: taken over without anyone asking ---------------------------------------------


async def _all_stored_once(rig: Rig) -> None:
    """Every event the runtime holds is stored, once, in its order, numbered densely."""
    log = rig.world.conversations[rig.cid].log
    await rig.until(lambda r: len(r.stored) == len(log))
    assert [e.event_id for e in rig.stored] == [e.event_id for e in log]
    assert [e.seq for e in rig.stored] == list(range(1, len(log) + 1))


async def _left_running(rig: Rig, leases: InProcessIngestLeases) -> None:
    """A server followed the conversation into a slow run, then stopped."""
    rig.world.script(Slow(seconds=30, then=Finish()))
    first = rig.ingest(leases)
    first.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.RUNNING)
    await first.aclose()


async def test_a_conversation_its_server_left_mid_run_is_taken_over_by_a_sweep(rig: Rig) -> None:
    """One server stops mid-run (its lease released unfinished); another, which nobody asked
    about the conversation, finds it in its sweep and stores the rest, each event once."""
    rig.world.script(ToolCall(tool="terminal"), Slow(seconds=30, then=ToolCall(tool="terminal")))
    leases = InProcessIngestLeases()
    first = rig.ingest(leases)
    first.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: any(e.kind == "ObservationEvent" for e in r.stored))
    await first.aclose()
    assert await leases.orphans(10) == [rig.cid]

    second = rig.ingest(leases)
    assert await second.sweep() == 1
    assert await second.sweep() == 0  # followed already: not twice
    rig.world.release()
    await rig.until(finished)
    await _all_stored_once(rig)
    assert await leases.orphans(10) == []
    await second.aclose()


async def test_sweeping_in_the_background_takes_orphans_over(rig: Rig) -> None:
    leases = InProcessIngestLeases()
    await _left_running(rig, leases)
    second = rig.ingest(leases, sweep_every_s=0.01)
    second.keep_sweeping()
    await until(lambda: second.following(rig.cid), "the sweep took the conversation over")
    rig.world.release()
    await rig.until(finished)
    await second.aclose()


@pytest.mark.parametrize(
    "status", [ConversationStatus.FINISHED, ConversationStatus.STOPPED, ConversationStatus.ERROR]
)
async def test_an_orphan_that_has_ended_is_let_go_without_reading_its_runtime(
    rig: Rig, status: ConversationStatus
) -> None:
    """An ended conversation needs no reader until someone acts on it (a message follows it
    again): the sweep finishes its lease instead of reading its runtime."""
    _as_left(rig, status)
    leases = _CountedLeases()
    orphaned = await leases.acquire(rig.cid)
    assert orphaned is not None
    await leases.release(orphaned, finished=False)
    lost_runtime = ScriptedRuntime(ScriptedWorld())  # reading it would fail the conversation
    ingest = rig.ingest(leases, runtime=lost_runtime)
    assert await ingest.sweep() == 1
    await until(lambda: leases.released == 2, "the adopted lease was let go")
    assert await leases.orphans(10) == []
    assert rig.conversation.status is status
    assert rig.conversation.status_reason is None
    await ingest.aclose()


async def test_an_orphan_deleted_since_is_let_go(rig: Rig) -> None:
    leases = _CountedLeases()
    orphaned = await leases.acquire(rig.cid)
    assert orphaned is not None
    await leases.release(orphaned, finished=False)
    del rig.store.live.conversations[rig.cid]
    rig.store.commit()
    ingest = rig.ingest(leases)
    assert await ingest.sweep() == 1
    await until(lambda: leases.released == 2, "the adopted lease was let go")
    assert await leases.orphans(10) == []
    await ingest.aclose()


class _UnavailableLeases(InProcessIngestLeases):
    """Leases whose store cannot be reached until ``back`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.back = False
        self.refused = 0

    async def acquire(self, conversation_id: ConversationId) -> Lease | None:
        if not self.back:
            self.refused += 1
            raise DependencyUnavailableError("Redis cannot be reached.")
        return await super().acquire(conversation_id)


async def test_a_conversation_started_while_leases_are_unavailable_is_followed_once_back(
    rig: Rig,
) -> None:
    """A start during a Redis outage answers, and its events are stored once Redis is back:
    never started, then nothing."""
    rig.world.script(ToolCall(tool="terminal"), Finish())
    leases = _UnavailableLeases()
    ingest = rig.ingest(leases)
    ingest.follow(rig.cid)
    await rig.say("Work")
    await until(lambda: leases.refused >= 2, "the lease was asked for again")
    assert rig.stored == []
    leases.back = True
    await rig.until(finished)
    await _all_stored_once(rig)
    await ingest.aclose()


async def test_a_server_stopping_hands_its_conversations_over_as_orphans(rig: Rig) -> None:
    leases = InProcessIngestLeases()
    await _left_running(rig, leases)
    assert await leases.orphans(10) == [rig.cid]


async def test_an_owner_whose_lease_is_lost_while_nothing_happens_stops_following(
    rig: Rig,
) -> None:
    """Its runtime sends nothing more (another server finished the run while this one was cut
    off), yet the lost lease ends its reading: no stream is held open for ever."""
    rig.world.script(Slow(seconds=30, then=Finish()))
    leases = InProcessIngestLeases()
    ingest = rig.ingest(leases, lease_check_s=0.01)
    ingest.follow(rig.cid)
    await rig.say("Work")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.RUNNING)
    leases.seize(rig.cid, owner="another-server")
    await until(lambda: not ingest.following(rig.cid), "the lost lease ended the reading")
    await ingest.aclose()


async def test_a_run_that_spends_its_budget_is_paused_saying_why(rig: Rig) -> None:
    """Each scripted answer costs $0.40 against a $1.00 budget: the usage report that crosses
    it pauses the run, the paused conversation says why, and it takes no more work."""
    rig.world.cost_per_step = 0.4
    rig.store.live.conversations[rig.cid].max_budget_usd = 1.0
    rig.store.commit()
    # The third answer crosses the budget; the fourth waits until released, which never
    # comes: only the pause can end the run's waiting.
    answer = ToolCall(tool="terminal", output="ok")
    rig.world.script(answer, answer, answer, Slow(seconds=60, then=answer))
    ingest = rig.ingest()
    ingest.follow(rig.cid)
    await rig.say("Spend")
    await rig.until(lambda r: r.conversation.status is ConversationStatus.PAUSED)
    conversation = rig.conversation
    assert conversation.cost_usd == pytest.approx(1.2)  # paused at the report that crossed it
    assert conversation.status_reason is not None
    assert "$1.00" in conversation.status_reason
    with pytest.raises(ConversationBudgetSpentError):
        conversation.check_budget()
    await ingest.aclose()


async def test_a_run_within_its_budget_is_not_paused(rig: Rig) -> None:
    rig.world.cost_per_step = 0.1
    rig.store.live.conversations[rig.cid].max_budget_usd = 5.0
    rig.store.commit()
    rig.world.script(ToolCall(tool="terminal", output="ok"), Finish())
    ingest = rig.ingest()
    ingest.follow(rig.cid)
    await rig.say("Spend a little")
    await rig.until(finished)
    assert rig.conversation.status_reason is None
    rig.conversation.check_budget()
    await ingest.aclose()


class _UnreachableStore(FakeUnitsOfWork):
    """A store this server cannot reach (a partition): every transaction fails to begin."""

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return Refused("The database cannot be reached.")


async def test_an_owner_that_cannot_store_hands_the_conversation_over(rig: Rig) -> None:
    """Cut off from the database but not from the leases, an owner would hold its lease for
    ever while storing nothing; after ``patience_s`` it gives the conversation up as an
    orphan, and a server that reaches the database takes it over and stores every event."""
    rig.world.script(ToolCall(tool="terminal"), Slow(seconds=30, then=Finish()))
    leases = InProcessIngestLeases()
    cut_off = rig.ingest(leases, store=_UnreachableStore(rig.store), patience_s=0.1)
    cut_off.follow(rig.cid)
    await rig.say("Work")
    await until(lambda: not cut_off.following(rig.cid), "the cut-off owner handed it over")
    assert await leases.orphans(10) == [rig.cid]
    assert rig.stored == []

    healthy = rig.ingest(leases)
    assert await healthy.sweep() == 1
    rig.world.release()
    await rig.until(finished)
    await _all_stored_once(rig)
    await cut_off.aclose()
    await healthy.aclose()


class _CountedUnreachableStore(_UnreachableStore):
    """Counts the transactions tried on the unreachable store."""

    tried = 0

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        self.tried += 1
        return super().begin()


@pytest.mark.parametrize("adopt", [False, True])
async def test_a_server_cut_off_from_its_store_waits_it_out_only_when_asked_to_follow(
    rig: Rig, adopt: bool
) -> None:
    """Asked to follow (a start, a message), a server that cannot read the store goes on to
    read and store, waiting the store out for ``patience_s``; an orphan it would adopt is
    handed over at once, so a server that reaches the store takes it."""
    leases = _CountedLeases()
    store = _CountedUnreachableStore(rig.store)
    cut_off = rig.ingest(leases, store=store, patience_s=0.05)
    cut_off.follow(rig.cid, adopt=adopt)
    await until(lambda: leases.released == 1, "the cut-off server handed it over")
    assert await leases.orphans(10) == [rig.cid]
    assert (store.tried == 1) is adopt  # adopted: only the read of the conversation
    await cut_off.aclose()


class _BreakingAfterEachEvent(ListedRuntime):
    """Each stream hands over the next event, then breaks off after ``pause_s`` (longer than
    the ingest's patience), as a runtime behind a flaky link does."""

    def __init__(self, listed: Sequence[RuntimeEvent], pause_s: float) -> None:
        super().__init__(listed)
        self.pause_s = pause_s

    async def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        ids = [event.event_id for event in self.listed]
        start = 0 if after is None else ids.index(after) + 1
        if start == len(self.listed):
            return
        yield self.listed[start]
        await asyncio.sleep(self.pause_s)
        raise DependencyUnavailableError("The runtime's stream broke off.")


async def test_an_owner_that_keeps_storing_through_breaks_keeps_the_conversation(
    rig: Rig,
) -> None:
    """Patience runs from the last event stored, not from the first break: an owner whose
    stream breaks after every event, each break later than ``patience_s`` after the one
    before, still makes progress and is not handing the conversation over."""
    listed = [_neutral(rig, name) for name in "abcde"]
    leases = _CountedLeases()
    ingest = rig.ingest(
        leases, runtime=_BreakingAfterEachEvent(listed, pause_s=0.1), patience_s=0.05
    )
    ingest.follow(rig.cid)
    await until(lambda: leases.released == 1, "the stream was read to its end")
    assert [event.event_id for event in rig.stored] == list("abcde")
    assert await leases.orphans(10) == []
    await ingest.aclose()


async def _fund(rig: Rig, amount_micros: int) -> None:
    async with FakeUnitsOfWork(rig.store).begin() as tx:
        await tx.ledger.record(
            LedgerEntry(
                org_id=rig.conversation.tenant.org_id,
                kind=EntryKind.PURCHASE,
                amount_micros=amount_micros,
                source="test",
                source_id=str(new_id()),
                created_at=T0,
            )
        )
        await tx.commit()


def _paid_by(rig: Rig, payer: LlmPayer) -> None:
    rig.store.live.conversations[rig.cid].llm_payer = payer
    rig.store.commit()


def _report(rig: Rig, event_id: str, cost: float, tokens: int) -> RuntimeEvent:
    return _neutral(
        rig,
        event_id,
        usage=Usage(
            input_tokens=tokens,
            output_tokens=tokens // 10,
            cache_read_tokens=tokens // 2,
            cost_usd=cost,
            model="litellm_proxy/claude-sonnet",
        ),
    )


async def test_usage_the_organization_pays_for_is_recorded_and_debited_once_per_report(
    rig: Rig,
) -> None:
    """Each report's running totals become what it added, for the conversation's person and
    organization; a report repeating the totals adds nothing; ingesting the log again (a
    restart) records and debits nothing more."""
    _paid_by(rig, LlmPayer.ORG)
    await _fund(rig, 10_000_000)
    listed = [
        _report(rig, "a", 0.5, 1_000),
        _neutral(rig, "b", status=RuntimeStatus.RUNNING),
        _report(rig, "c", 0.75, 1_500),
        _report(rig, "d", 0.75, 1_500),  # the same totals again
    ]
    await _ingest_all(rig, listed)
    org, user = rig.conversation.tenant.org_id, rig.conversation.tenant.user_id
    records = sorted(rig.store.committed.usage.values(), key=lambda r: r.report_id)
    assert [(r.report_id, r.usage.cost_micros, r.usage.input_tokens) for r in records] == [
        ("a", 500_000, 1_000),
        ("c", 250_000, 500),
    ]
    assert all((r.org_id, r.user_id, r.billed) == (org, user, True) for r in records)
    assert records[0].usage.cache_read_tokens == 500
    assert records[0].model == "litellm_proxy/claude-sonnet"
    debits = sorted(
        e.amount_micros for e in rig.store.committed.ledger.values() if e.kind is EntryKind.USAGE
    )
    assert debits == [-500_000, -250_000]
    assert rig.store.committed.balances[org] == 9_250_000

    rig.store.live.events.pop(rig.cid)  # the log ingested afresh: every report replayed
    rig.store.commit()
    await _ingest_all(rig, listed)
    assert len(rig.store.committed.usage) == 2
    assert rig.store.committed.balances[org] == 9_250_000


async def test_usage_on_a_persons_own_key_is_recorded_and_not_charged(rig: Rig) -> None:
    _paid_by(rig, LlmPayer.USER)
    await _fund(rig, 1_000_000)
    await _ingest_all(rig, [_report(rig, "a", 2.5, 100)])
    [record] = rig.store.committed.usage.values()
    assert (record.usage.cost_micros, record.billed) == (2_500_000, False)
    assert [e.kind for e in rig.store.committed.ledger.values()] == [EntryKind.PURCHASE]
    assert rig.conversation.billing_hold is None


class _PauseCountingRuntime(ListedRuntime):
    paused = 0

    async def pause(self, conversation_id: ConversationId) -> None:
        self.paused += 1


@pytest.mark.parametrize("enforced", [True, False])
async def test_a_run_that_spends_the_organizations_balance_is_paused_saying_why(
    rig: Rig, enforced: bool
) -> None:
    """Enforced, the report that takes the balance to zero holds the run and pauses it; its
    paused status says why. Not enforced (no payment provider), it runs on, still debited."""
    _paid_by(rig, LlmPayer.ORG)
    await _fund(rig, 1_000_000)
    runtime = _PauseCountingRuntime(
        [
            _neutral(rig, "a", status=RuntimeStatus.RUNNING),
            _report(rig, "b", 0.6, 100),
            _report(rig, "c", 1.25, 200),
            _neutral(rig, "d", status=RuntimeStatus.PAUSED),
        ]
    )
    ingest = rig.ingest(runtime=runtime, policy=BudgetPolicy(enforced=enforced))
    ingest.follow(rig.cid)
    await rig.until(lambda r: len(r.stored) == 4)
    await ingest.aclose()
    conversation = rig.conversation
    assert rig.store.committed.balances[conversation.tenant.org_id] == -250_000
    assert conversation.status is ConversationStatus.PAUSED
    if enforced:
        assert runtime.paused == 1
        assert conversation.billing_hold is BillingHold.FUNDS
        assert conversation.status_reason == hold_reason(BillingHold.FUNDS)
    else:
        assert runtime.paused == 0
        assert (conversation.billing_hold, conversation.status_reason) == (None, None)


async def test_a_run_held_for_funds_is_saved_as_held_at_the_reports_time(rig: Rig) -> None:
    """The hold is kept with the time of the report that made it, before the runtime says it
    paused (a row without that time is one PostgreSQL refuses)."""
    _paid_by(rig, LlmPayer.ORG)
    await _fund(rig, 500_000)
    runtime = _PauseCountingRuntime(
        [_neutral(rig, "a", status=RuntimeStatus.RUNNING), _report(rig, "b", 0.75, 100)]
    )
    ingest = rig.ingest(runtime=runtime, policy=BudgetPolicy(enforced=True))
    ingest.follow(rig.cid)
    await rig.until(lambda r: len(r.stored) == 2 and r.conversation.billing_hold is not None)
    await ingest.aclose()
    held = rig.conversation
    assert (held.status, held.billing_hold) == (ConversationStatus.RUNNING, BillingHold.FUNDS)
    assert held.updated_at == FakeClock().now()
    assert runtime.paused == 1


async def test_a_member_past_the_monthly_cap_has_the_run_paused_saying_so(rig: Rig) -> None:
    _paid_by(rig, LlmPayer.ORG)
    await _fund(rig, 50_000_000)
    async with FakeUnitsOfWork(rig.store).begin() as tx:
        await tx.ledger.set_member_cap(rig.conversation.tenant.org_id, 1_000_000)
        await tx.commit()
    runtime = _PauseCountingRuntime(
        [
            _neutral(rig, "a", status=RuntimeStatus.RUNNING),
            _report(rig, "b", 0.9, 100),
            _report(rig, "c", 1.0, 200),
            _neutral(rig, "d", status=RuntimeStatus.PAUSED),
        ]
    )
    ingest = rig.ingest(runtime=runtime, policy=BudgetPolicy(enforced=True))
    ingest.follow(rig.cid)
    await rig.until(lambda r: len(r.stored) == 4)
    await ingest.aclose()
    assert runtime.paused == 1
    assert rig.conversation.billing_hold is BillingHold.MEMBER_CAP
    assert rig.conversation.status_reason == hold_reason(BillingHold.MEMBER_CAP)


async def test_callbacks_see_a_start_that_fails_as_they_see_a_run_end(rig: Rig) -> None:
    """A start that never reached the runtime fails through the start's reports; the
    conversation's callbacks (the resolver's reply, the analytics of its end) see it once,
    with the failure's note, in the transaction that records it."""
    started = rig.store.live.conversations[rig.cid]
    started.start_phase = StartPhase.CLONING
    started.updated_at = T0 - timedelta(seconds=61)
    rig.store.commit()
    witness = Witness()
    leases = _CountedLeases()
    ingest = rig.ingest(leases, processors=CallbackProcessors([witness]), start_bound_s=60)
    ingest.follow(rig.cid)
    await until(lambda: leases.released == 1, "the attempt to follow ended")
    await ingest.aclose()
    assert rig.conversation.status is ConversationStatus.ERROR
    assert witness.seen == [(ConversationStatus.STARTING, ConversationStatus.ERROR, 1, True)]
