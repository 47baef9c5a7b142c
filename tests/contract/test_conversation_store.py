"""The ConversationRepository, EventStore and EventCallbackStore contracts over the fake,
SQLite and PostgreSQL: conversations scoped by tenant, searched with filters and a cursor;
events numbered densely per conversation, kept once per runtime event id, fenced; callbacks
kept with their state."""

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from application.errors import DependencyUnavailableError
from application.ports.conversation_repository import ConversationFilter
from application.ports.runtime_directory import RuntimeAddress
from domain.conversations.entities import (
    CallbackId,
    CallbackStatus,
    Conversation,
    ConversationStatus,
    ConversationTitle,
    EventCallback,
    RepositoryName,
    Tenant,
)
from domain.conversations.errors import StaleFenceError
from domain.conversations.value_objects import (
    SERVER_SOURCE,
    ConversationId,
    EventType,
    RuntimeEvent,
    StartPhase,
    start_phase_note,
)
from domain.git.providers import ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.triggers import ConversationTrigger
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id
from tests.backends import Backend, until_a_transaction_waits
from tests.factories import T0, create_org, create_user


def conversation(tenant: Tenant, **changes: object) -> Conversation:
    values: dict[str, object] = {
        "id_": ConversationId(new_id()),
        "tenant": tenant,
        "created_at": T0,
        "updated_at": T0,
        **changes,
    }
    return Conversation(**values)  # type: ignore[arg-type]


def event(
    conversation_id: ConversationId, event_id: str | None = None, **payload: object
) -> RuntimeEvent:
    event_id = event_id or str(uuid4())
    return RuntimeEvent(
        event_id=event_id,
        conversation_id=conversation_id,
        kind=str(payload.get("kind", "MessageEvent")),
        source="agent",
        type=EventType.MESSAGE,
        occurred_at=T0,
        payload={"id": event_id, **payload},
    )


async def add(backend: Backend, *conversations: Conversation) -> None:
    async with backend.conversations.begin() as tx:
        for item in conversations:
            await tx.conversations.add(item)
        await tx.commit()


async def test_a_conversation_reads_back_whole_and_only_for_its_tenant(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    sut = conversation(
        mine,
        title=ConversationTitle("Fix the flaky test"),
        repository=RepositoryName("acme/widgets"),
        branch="main",
        git_provider=ProviderKind.GITHUB,
    )
    await add(backend, sut)
    async with backend.conversations.begin() as tx:
        found = await tx.conversations.get(mine, sut.id_)
        assert await tx.conversations.get(theirs, sut.id_) is None
        assert await tx.conversations.get(Tenant(mine.org_id, theirs.user_id), sut.id_) is None
        owned = await tx.conversations.get_for_owner(sut.id_)
        unknown = await tx.conversations.get_for_owner(ConversationId(new_id()))
    assert found is not None
    assert owned is not None
    assert unknown is None
    assert (found.title, found.repository, found.branch, found.git_provider) == (
        ConversationTitle("Fix the flaky test"),
        RepositoryName("acme/widgets"),
        "main",
        ProviderKind.GITHUB,
    )
    assert (found.status, found.created_at, found.tenant) == (
        ConversationStatus.STARTING,
        T0,
        mine,
    )


async def test_save_writes_progress_but_keeps_a_concurrent_rename(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    sut = conversation(mine)
    await add(backend, sut)
    async with backend.conversations.begin() as tx:
        assert await tx.conversations.rename(mine, sut.id_, ConversationTitle("Renamed"))
        assert not await tx.conversations.rename(theirs, sut.id_, ConversationTitle("No"))
        await tx.commit()
    sut.transition(ConversationStatus.RUNNING, T0 + timedelta(seconds=5))
    sut.record_usage(cost_usd=0.25, prompt_tokens=100, completion_tokens=7, now=sut.updated_at)
    sut.active_seconds = 4.5
    async with backend.conversations.begin() as tx:
        await tx.conversations.save(sut)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        found = await tx.conversations.get(mine, sut.id_)
    assert found is not None
    assert found.title == ConversationTitle("Renamed")
    assert (found.status, found.cost_usd, found.prompt_tokens, found.completion_tokens) == (
        ConversationStatus.RUNNING,
        0.25,
        100,
        7,
    )
    assert (found.active_seconds, found.updated_at) == (4.5, T0 + timedelta(seconds=5))


async def test_search_filters_and_pages_newest_first(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    made = [
        conversation(
            mine,
            title=ConversationTitle(f"Task {i} {'100%_done' if i % 2 else 'open'}"),
            repository=RepositoryName("acme/a" if i < 3 else "acme/b"),
            status=ConversationStatus.FINISHED if i % 2 else ConversationStatus.RUNNING,
        )
        for i in range(5)
    ]
    await add(backend, *made, conversation(theirs, title=ConversationTitle("Task 9")))
    newest_first = sorted((c.id_ for c in made), reverse=True)

    def ids(*items: Conversation) -> list[ConversationId]:
        return sorted((c.id_ for c in items), reverse=True)

    async with backend.conversations.begin() as tx:
        seen, cursor = [], None
        while True:
            page = await tx.conversations.search(mine, ConversationFilter(), cursor=cursor, limit=2)
            seen += [c.id_ for c in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == newest_first
        # A page that ends the list says so; one that does not points just past its last.
        whole = await tx.conversations.search(mine, ConversationFilter(), limit=5)
        assert ([c.id_ for c in whole.items], whole.next_cursor) == (newest_first, None)
        first = await tx.conversations.search(mine, ConversationFilter(), limit=3)
        assert [c.id_ for c in first.items] == newest_first[:3]
        rest = await tx.conversations.search(
            mine, ConversationFilter(), cursor=first.next_cursor, limit=3
        )
        assert ([c.id_ for c in rest.items], rest.next_cursor) == (newest_first[3:], None)
        finished = await tx.conversations.search(
            mine, ConversationFilter(statuses=frozenset({ConversationStatus.FINISHED}))
        )
        assert [c.id_ for c in finished.items] == ids(made[3], made[1])
        in_b = await tx.conversations.search(mine, ConversationFilter(repository="acme/b"))
        assert [c.id_ for c in in_b.items] == ids(made[4], made[3])
        titled = await tx.conversations.search(mine, ConversationFilter(title_contains="0%_D"))
        assert [c.id_ for c in titled.items] == ids(made[3], made[1])
        literal = await tx.conversations.search(mine, ConversationFilter(title_contains="%"))
        assert len(literal.items) == 2
        with pytest.raises(InvalidValueError) as refused:
            await tx.conversations.search(mine, ConversationFilter(), cursor="not-a-cursor")
        assert refused.value.field == "cursor"


async def test_search_filters_by_where_conversations_were_started_from(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    web, api, github, gitlab = (
        conversation(mine, trigger=trigger)
        for trigger in (
            ConversationTrigger.WEB,
            ConversationTrigger.API,
            ConversationTrigger.GITHUB,
            ConversationTrigger.GITLAB,
        )
    )
    await add(backend, web, api, github, gitlab)
    await add(backend, conversation(theirs, trigger=ConversationTrigger.GITHUB))

    async def found(*triggers: ConversationTrigger) -> set[ConversationId]:
        async with backend.conversations.begin() as tx:
            page = await tx.conversations.search(
                mine, ConversationFilter(triggers=frozenset(triggers))
            )
        return {c.id_ for c in page.items}

    assert await found(ConversationTrigger.GITHUB) == {github.id_}
    assert await found(ConversationTrigger.GITHUB, ConversationTrigger.GITLAB) == {
        github.id_,
        gitlab.id_,
    }
    assert await found(ConversationTrigger.SLACK) == set()
    assert await found() == {web.id_, api.id_, github.id_, gitlab.id_}  # none: every one


async def test_children_read_back_under_their_parent_and_outlive_it(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    parent, other = conversation(mine), conversation(mine)
    children = [conversation(mine, parent_id=parent.id_) for _ in range(2)]
    await add(backend, parent, other, *children)
    await add(backend, conversation(theirs))
    async with backend.conversations.begin() as tx:
        listed = await tx.conversations.search(mine, ConversationFilter(parent_id=parent.id_))
        assert [c.id_ for c in listed.items] == sorted((c.id_ for c in children), reverse=True)
        assert (
            await tx.conversations.search(mine, ConversationFilter(parent_id=other.id_))
        ).items == []
        assert (
            await tx.conversations.search(theirs, ConversationFilter(parent_id=parent.id_))
        ).items == []
        child = await tx.conversations.get(mine, children[0].id_)
        assert child is not None
        assert child.parent_id == parent.id_
        assert await tx.conversations.delete(mine, parent.id_)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        orphan = await tx.conversations.get(mine, children[0].id_)
    assert orphan is not None  # a child outlives its parent, as the runtime keeps it
    assert orphan.parent_id is None


async def test_teammates_in_one_organization_see_and_touch_only_their_own(
    backend: Backend, teammates: list[Tenant]
) -> None:
    owner, member = teammates
    owners, members = conversation(owner), conversation(member)
    await add(backend, owners, members)
    async with backend.conversations.begin() as tx:
        for tenant, own, other in ((owner, owners, members), (member, members, owners)):
            page = await tx.conversations.search(tenant, ConversationFilter())
            assert [c.id_ for c in page.items] == [own.id_]
            assert await tx.conversations.get(tenant, other.id_) is None
            assert not await tx.conversations.rename(tenant, other.id_, ConversationTitle("x"))
            assert not await tx.conversations.delete(tenant, other.id_)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        for tenant, own in ((owner, owners), (member, members)):
            kept = await tx.conversations.get(tenant, own.id_)
            assert kept is not None
            assert kept.title == own.title


async def test_a_person_in_two_organizations_touches_each_ones_conversations_from_it_only(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    sut = conversation(mine)
    await add(backend, sut)
    me_elsewhere = Tenant(theirs.org_id, mine.user_id)
    async with backend.conversations.begin() as tx:
        assert await tx.conversations.get(me_elsewhere, sut.id_) is None
        page = await tx.conversations.search(me_elsewhere, ConversationFilter())
        assert page.items == []
        assert not await tx.conversations.rename(me_elsewhere, sut.id_, ConversationTitle("x"))
        assert not await tx.conversations.delete(me_elsewhere, sut.id_)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        kept = await tx.conversations.get(mine, sut.id_)
    assert kept is not None
    assert kept.title == sut.title


async def test_holding_runtime_and_unfinished(backend: Backend, tenants: list[Tenant]) -> None:
    mine, theirs = tenants
    idle = conversation(mine, status=ConversationStatus.IDLE, updated_at=T0 + timedelta(1))
    running = conversation(mine, status=ConversationStatus.RUNNING)
    paused = conversation(mine, status=ConversationStatus.PAUSED)
    done = conversation(mine, status=ConversationStatus.FINISHED)
    other = conversation(theirs, status=ConversationStatus.RUNNING)
    await add(backend, idle, running, paused, done, other)
    async with backend.conversations.begin() as tx:
        held = await tx.conversations.holding_runtime(mine.org_id, mine.user_id)
        assert [c.id_ for c in held] == [running.id_, idle.id_]
        assert [c.id_ for c in await tx.conversations.holding_runtime(theirs.org_id)] == [other.id_]
        unfinished = set(await tx.conversations.unfinished())
    assert {idle.id_, running.id_, paused.id_, other.id_} <= unfinished
    assert done.id_ not in unfinished


async def test_unfinished_conversations_count_by_status_across_tenants(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    await add(
        backend,
        conversation(mine, status=ConversationStatus.RUNNING),
        conversation(theirs, status=ConversationStatus.RUNNING),
        conversation(mine, status=ConversationStatus.STARTING),
        conversation(mine, status=ConversationStatus.FINISHED),
        conversation(theirs, status=ConversationStatus.ERROR),
    )
    async with backend.conversations.begin() as tx:
        counts = await tx.conversations.count_unfinished()
    assert counts == {ConversationStatus.RUNNING: 2, ConversationStatus.STARTING: 1}


async def test_admissions_in_an_organization_take_turns(
    backend: Backend, tenants: list[Tenant]
) -> None:
    """A transaction that locks admissions waits for the one holding them, and then reads
    what that one committed, though it read before it waited."""
    mine, _ = tenants
    first = conversation(mine, status=ConversationStatus.STARTING)

    async def admit_second() -> list[ConversationId]:
        async with backend.conversations.begin() as tx:
            assert await tx.conversations.holding_runtime(mine.org_id) == []
            await tx.conversations.lock_admissions(mine.org_id)
            held = await tx.conversations.holding_runtime(mine.org_id)
            await tx.commit()
        return [c.id_ for c in held]

    async with backend.conversations.begin() as tx:
        await tx.conversations.lock_admissions(mine.org_id)
        assert await tx.conversations.holding_runtime(mine.org_id) == []
        second = asyncio.create_task(admit_second())
        await until_a_transaction_waits(backend)
        assert not second.done()
        await tx.conversations.lock_admissions(mine.org_id)
        await tx.conversations.add(first)
        await tx.commit()
    assert await asyncio.wait_for(second, 5) == [first.id_]


async def test_admissions_lock_one_organization_only_and_leave_its_rows_free(
    backend: Backend, backend_url: str | None, tenants: list[Tenant]
) -> None:
    """Admissions of other organizations go on meanwhile, and so do writes that merely refer
    to the locked one (a conversation added in it by a transaction not admitting). SQLite has
    one writer for the whole database, so there every write waits."""
    if backend_url is not None and backend_url.startswith("sqlite"):
        pytest.skip("SQLite serialises every write")
    mine, theirs = tenants
    async with backend.open() as ports:  # a third organization, so that "every other" is not one
        user = create_user()
        third = create_org(user)
        await ports.users.add(user)
        await ports.orgs.add(*third)
        await ports.uow.commit()

    async def admit(org_id: OrgId) -> None:
        async with backend.conversations.begin() as tx:
            await tx.conversations.lock_admissions(org_id)
            await tx.commit()

    async with backend.conversations.begin() as tx:
        await tx.conversations.lock_admissions(mine.org_id)
        await asyncio.wait_for(admit(theirs.org_id), 10)
        await asyncio.wait_for(admit(third[0].id_), 10)
        await asyncio.wait_for(add(backend, conversation(mine)), 10)
        await tx.commit()


async def test_events_are_numbered_densely_and_kept_once(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    first = [event(sut.id_, "a"), event(sut.id_, "b", kind="SomethingNew", nested={"x": [1]})]
    async with backend.conversations.begin() as tx:
        stored = await tx.events.append(sut.id_, first, fence=1)
        await tx.commit()
    assert [(e.seq, e.event_id) for e in stored] == [(1, "a"), (2, "b")]
    async with backend.conversations.begin() as tx:
        again = await tx.events.append(
            sut.id_, [event(sut.id_, "b"), event(sut.id_, "c"), event(sut.id_, "c")], fence=1
        )
        await tx.commit()
    assert [(e.seq, e.event_id) for e in again] == [(3, "c")]
    async with backend.conversations.begin() as tx:
        everything = await tx.events.list_after(sut.id_)
        after_one = await tx.events.list_after(sut.id_, after=1, limit=1)
        last = await tx.events.last(sut.id_)
    assert [e.seq for e in everything] == [1, 2, 3]
    assert everything[1].kind == "SomethingNew"
    assert dict(everything[1].payload) == {"id": "b", "kind": "SomethingNew", "nested": {"x": [1]}}
    assert [e.event_id for e in after_one] == ["b"]
    assert last is not None
    assert last.seq == 3


AWKWARD_TEXT = [
    "NUL \x00 in the middle",
    "\x00",
    "a literal backslash-u: \\u0000 is not a NUL",
    "UTF-16 read as bytes: \xff\xfeh\x00i\x00",
    "every control \x01\x07\x1b[31m red \x7f and \u2028 \ufeff",
    "a lone surrogate \ud800 from a JSON escape",
    "non-ASCII: café 日本語 🙂",
]


async def test_an_event_id_one_conversation_holds_does_not_keep_another_from_storing_it(
    backend: Backend, tenants: list[Tenant]
) -> None:
    """Runtime event ids are unique within a conversation, not across them."""
    mine, theirs = tenants
    one, other = conversation(mine), conversation(theirs)
    await add(backend, one, other)
    async with backend.conversations.begin() as tx:
        assert len(await tx.events.append(one.id_, [event(one.id_, "same")], fence=1)) == 1
        stored = await tx.events.append(other.id_, [event(other.id_, "same")], fence=1)
        await tx.commit()
    assert [(e.conversation_id, e.seq, e.event_id) for e in stored] == [(other.id_, 1, "same")]
    async with backend.conversations.begin() as tx:
        assert [e.event_id for e in await tx.events.list_after(one.id_)] == ["same"]


async def test_where_a_conversations_stream_goes_on_from_is_its_own_last_event(
    backend: Backend, tenants: list[Tenant]
) -> None:
    """``last`` (where the ingest resumes a runtime's stream) reads the conversation asked
    for, never a later event of another one, and nothing for a conversation with none."""
    mine, theirs = tenants
    one, other, empty = conversation(mine), conversation(theirs), conversation(mine)
    await add(backend, one, other, empty)
    async with backend.conversations.begin() as tx:
        await tx.events.append(one.id_, [event(one.id_, "mine")], fence=1)
        await tx.events.append(
            other.id_, [event(other.id_, f"theirs-{n}") for n in range(3)], fence=1
        )
        await tx.commit()
    async with backend.conversations.begin() as tx:
        last = await tx.events.last(one.id_)
        nothing = await tx.events.last(empty.id_)
    assert last is not None
    assert (last.conversation_id, last.seq, last.event_id) == (one.id_, 1, "mine")
    assert nothing is None


async def test_an_event_comes_back_exactly_whatever_its_text_holds(
    backend: Backend, tenants: list[Tenant]
) -> None:
    """A tool's output may hold a NUL (a binary ``cat``, UTF-16 text) or anything else JSON can
    carry; the event is stored, and the events after it too, and reads back the same."""
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    payloads = [
        {"observation": {"content": [{"type": "text", "text": text}]}, text: [text]}
        for text in AWKWARD_TEXT
    ]
    for number, payload in enumerate(payloads):
        async with backend.conversations.begin() as tx:
            await tx.events.append(sut.id_, [event(sut.id_, f"e{number}", **payload)], fence=1)
            await tx.commit()
    async with backend.conversations.begin() as tx:
        await tx.events.append(sut.id_, [event(sut.id_, "after")], fence=1)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        everything = await tx.events.list_after(sut.id_)
        last = await tx.events.last(sut.id_)
    assert [e.event_id for e in everything] == [*(f"e{n}" for n in range(len(payloads))), "after"]
    for stored, payload in zip(everything, payloads, strict=False):
        assert dict(stored.payload) == {"id": stored.event_id, **payload}
    assert last is not None
    assert last.event_id == "after"


async def test_the_reason_for_an_error_reads_back_and_clears_on_the_next_run(
    backend: Backend,
    tenants: list[Tenant],
) -> None:
    mine, _ = tenants
    sut = conversation(mine, status=ConversationStatus.RUNNING)
    await add(backend, sut)
    assert sut.fail("The LLM cannot be reached: connection refused", T0 + timedelta(seconds=1))
    async with backend.conversations.begin() as tx:
        await tx.conversations.save(sut)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        failed = await tx.conversations.get(mine, sut.id_)
    assert failed is not None
    assert (failed.status, failed.status_reason) == (
        ConversationStatus.ERROR,
        "The LLM cannot be reached: connection refused",
    )
    assert failed.transition(ConversationStatus.RUNNING, T0 + timedelta(seconds=2))
    async with backend.conversations.begin() as tx:
        await tx.conversations.save(failed)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        running = await tx.conversations.get(mine, sut.id_)
    assert running is not None
    assert (running.status, running.status_reason) == (ConversationStatus.RUNNING, None)


async def test_an_append_rolled_back_leaves_no_number_behind(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    async with backend.conversations.begin() as tx:
        await tx.events.append(sut.id_, [event(sut.id_, "lost")], fence=1)
    async with backend.conversations.begin() as tx:
        stored = await tx.events.append(sut.id_, [event(sut.id_, "kept")], fence=1)
        await tx.commit()
    assert [(e.seq, e.event_id) for e in stored] == [(1, "kept")]


async def test_an_append_with_a_stale_fence_is_refused(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    async with backend.conversations.begin() as tx:
        await tx.events.append(sut.id_, [event(sut.id_, "new-owner")], fence=7)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        with pytest.raises(StaleFenceError):
            await tx.events.append(sut.id_, [event(sut.id_, "old-owner")], fence=6)
    async with backend.conversations.begin() as tx:
        assert [e.event_id for e in await tx.events.list_after(sut.id_)] == ["new-owner"]


async def test_the_servers_notes_take_their_place_in_line_whatever_the_fence(
    backend: Backend, tenants: list[Tenant]
) -> None:
    """A start's phases are noted before and while a runtime stream's owner appends: a note
    carries no fence, is refused by none and leaves the owners' fence as it was; where the
    runtime's stream goes on from (``last``) passes notes over."""
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    note = start_phase_note(sut.id_, StartPhase.CLONING, T0)
    async with backend.conversations.begin() as tx:
        assert [e.seq for e in await tx.events.append(sut.id_, [note], fence=None)] == [1]
        assert await tx.events.last(sut.id_) is None
        await tx.events.append(sut.id_, [event(sut.id_, "runtime")], fence=7)
        ready = start_phase_note(sut.id_, StartPhase.READY, T0)
        stored = await tx.events.append(sut.id_, [ready, note], fence=None)
        await tx.commit()
    assert [(e.seq, e.event_id, e.source) for e in stored] == [
        (3, "start-phase-ready", SERVER_SOURCE)
    ]
    async with backend.conversations.begin() as tx:
        last = await tx.events.last(sut.id_)
        assert last is not None
        assert (last.seq, last.event_id) == (2, "runtime")
        with pytest.raises(StaleFenceError):  # the note did not lower the owners' fence
            await tx.events.append(sut.id_, [event(sut.id_, "stale")], fence=6)
    async with backend.conversations.begin() as tx:
        await tx.events.append(sut.id_, [event(sut.id_, "owner")], fence=7)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        assert [e.event_id for e in await tx.events.list_after(sut.id_)] == [
            "start-phase-cloning",
            "runtime",
            "start-phase-ready",
            "owner",
        ]


async def test_concurrent_appends_number_densely_and_drop_duplicates(
    backend: Backend, tenants: list[Tenant]
) -> None:
    if backend.execute is None:
        pytest.skip("the fake runs one append at a time by construction")
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    ids = [f"e{i}" for i in range(12)]

    async def writer(offset: int) -> None:
        for i in range(0, len(ids), 3):
            batch = ids[i : i + 3]
            batch = batch[offset % len(batch) :] + batch[: offset % len(batch)]
            async with backend.conversations.begin() as tx:
                await tx.events.append(sut.id_, [event(sut.id_, e) for e in batch], fence=1)
                await tx.commit()

    await asyncio.gather(*(writer(n) for n in range(4)))
    async with backend.conversations.begin() as tx:
        stored = await tx.events.list_after(sut.id_, limit=100)
    assert [e.seq for e in stored] == list(range(1, len(ids) + 1))
    assert sorted(e.event_id for e in stored) == sorted(ids)


async def test_deleting_a_conversation_takes_its_events_and_callbacks(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, theirs = tenants
    sut = conversation(mine)
    await add(backend, sut)
    callback = EventCallback(
        id_=CallbackId(new_id()), conversation_id=sut.id_, processor="set_title", updated_at=T0
    )
    async with backend.conversations.begin() as tx:
        await tx.events.append(sut.id_, [event(sut.id_, "a")], fence=1)
        await tx.callbacks.add(callback)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        assert not await tx.conversations.delete(theirs, sut.id_)
        assert await tx.conversations.delete(mine, sut.id_)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        assert await tx.conversations.get(mine, sut.id_) is None
        assert await tx.events.list_after(sut.id_) == []
        assert await tx.callbacks.active_for(sut.id_) == []


async def test_callbacks_keep_their_state_and_stop_when_done(
    backend: Backend, tenants: list[Tenant]
) -> None:
    mine, _ = tenants
    sut = conversation(mine)
    await add(backend, sut)
    first = EventCallback(
        id_=CallbackId(new_id()), conversation_id=sut.id_, processor="set_title", updated_at=T0
    )
    second = EventCallback(
        id_=CallbackId(new_id()),
        conversation_id=sut.id_,
        processor="active_seconds",
        state={"running_since": None},
        updated_at=T0,
    )
    async with backend.conversations.begin() as tx:
        await tx.callbacks.add(first)
        await tx.callbacks.add(second)
        await tx.commit()
    first.status = CallbackStatus.COMPLETED
    second.state = {"running_since": "2026-01-01T12:00:00+00:00", "n": 2}
    async with backend.conversations.begin() as tx:
        await tx.callbacks.save(first)
        await tx.callbacks.save(second)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        active = await tx.callbacks.active_for(sut.id_)
    assert [(c.processor, c.state) for c in active] == [
        ("active_seconds", {"running_since": "2026-01-01T12:00:00+00:00", "n": 2})
    ]


def _address(node: str, name: str, port: int, key: str) -> RuntimeAddress:
    return RuntimeAddress(
        node=node, name=name, url=f"http://10.0.0.{port % 200}:{port}", session_key=key
    )


async def test_the_runtime_directory_says_where_each_conversations_agent_server_answers(
    backend: Backend, tenants: list[Tenant]
) -> None:
    """Each node announces its agent-servers; a conversation is placed on one; any server
    locates it, and follows the agent-server when it moves (a restart on a new port, a new
    key). Two nodes' agent-servers of one name are two."""
    mine, theirs = tenants
    one, two, unplaced = conversation(mine), conversation(theirs), conversation(mine)
    await add(backend, one, two, unplaced)
    first = _address("node-a", "org-x", 41001, "key-one")
    elsewhere = _address("node-b", "org-x", 41002, "key-two")
    async with backend.conversations.begin() as tx:
        await tx.runtime_hosts.announce(first, T0)
        await tx.runtime_hosts.announce(elsewhere, T0)
        await tx.runtime_hosts.place(one.id_, "node-a", "org-x")
        await tx.runtime_hosts.place(two.id_, "node-b", "org-x")
        await tx.commit()
    async with backend.conversations.begin() as tx:
        assert await tx.runtime_hosts.locate(one.id_) == first
        assert await tx.runtime_hosts.locate(two.id_) == elsewhere
        assert await tx.runtime_hosts.locate(unplaced.id_) is None
    moved = _address("node-a", "org-x", 41003, "key-three")
    async with backend.conversations.begin() as tx:
        await tx.runtime_hosts.announce(moved, T0 + timedelta(minutes=1))
        await tx.runtime_hosts.place(unplaced.id_, "node-c", "shared")  # never announced
        await tx.commit()
    async with backend.conversations.begin() as tx:
        assert await tx.runtime_hosts.locate(one.id_) == moved
        assert await tx.runtime_hosts.locate(two.id_) == elsewhere
        assert await tx.runtime_hosts.locate(unplaced.id_) is None
    assert "key-three" not in repr(moved)
    # a deleted conversation's placement goes with it
    async with backend.conversations.begin() as tx:
        assert await tx.conversations.delete(mine, one.id_)
        await tx.commit()
    async with backend.conversations.begin() as tx:
        assert await tx.runtime_hosts.locate(one.id_) is None


async def test_an_agent_servers_session_key_is_sealed_and_bound_to_it(
    backend: Backend, tenants: list[Tenant]
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    mine, _ = tenants
    one, two = conversation(mine), conversation(mine)
    await add(backend, one, two)
    async with backend.conversations.begin() as tx:
        await tx.runtime_hosts.announce(_address("node-a", "org-x", 41001, "sk-first"), T0)
        await tx.runtime_hosts.announce(_address("node-a", "org-y", 41002, "sk-second"), T0)
        await tx.runtime_hosts.place(one.id_, "node-a", "org-x")
        await tx.runtime_hosts.place(two.id_, "node-a", "org-y")
        await tx.commit()
    async with backend.execute("SELECT session_key FROM runtime_hosts") as rows:
        stored = [str(row[0]) for row in rows]
    assert len(stored) == 2
    assert all(v.startswith("v1.test.") and "sk-" not in v for v in stored)
    async with backend.execute(
        "UPDATE runtime_hosts SET session_key = "
        "(SELECT session_key FROM runtime_hosts WHERE name = 'org-x') WHERE name = 'org-y'"
    ):
        pass
    async with backend.conversations.begin() as tx:
        found = await tx.runtime_hosts.locate(one.id_)
        assert found is not None
        assert found.session_key == "sk-first"
        with pytest.raises(DependencyUnavailableError):
            await tx.runtime_hosts.locate(two.id_)
