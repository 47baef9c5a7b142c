import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.conversations.entities import (
    Conversation,
    ConversationStatus,
    ConversationTitle,
    RepositoryName,
    Tenant,
)
from domain.conversations.errors import InvalidStatusTransitionError
from domain.conversations.value_objects import ConversationId, RuntimeStatus
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id
from tests.factories import T0

S = ConversationStatus


def conversation(status: ConversationStatus = S.STARTING) -> Conversation:
    return Conversation(
        id_=ConversationId(new_id()),
        tenant=Tenant(OrgId(new_id()), UserId(new_id())),
        status=status,
        created_at=T0,
        updated_at=T0,
    )


@given(st.sampled_from(S), st.sampled_from(S))
def test_a_transition_either_happens_or_is_refused_naming_both(
    start: ConversationStatus, wanted: ConversationStatus
) -> None:
    sut = conversation(start)
    later = T0 + timedelta(seconds=1)
    if wanted is start:
        assert not sut.transition(wanted, later)
        assert sut.updated_at == T0
    elif sut.can_become(wanted):
        assert sut.transition(wanted, later)
        assert (sut.status, sut.updated_at) == (wanted, later)
    else:
        with pytest.raises(InvalidStatusTransitionError) as refused:
            sut.transition(wanted, later)
        assert (refused.value.current, refused.value.wanted) == (start.value, wanted.value)
        assert sut.status is start


@pytest.mark.parametrize("start", [s for s in S if s is not S.STARTING])
def test_nothing_goes_back_to_starting(start: ConversationStatus) -> None:
    assert not conversation(start).can_become(S.STARTING)


@pytest.mark.parametrize("done", [S.FINISHED, S.ERROR, S.STOPPED])
def test_a_new_message_runs_an_ended_conversation_again(done: ConversationStatus) -> None:
    sut = conversation(done)
    assert sut.follow_runtime(RuntimeStatus.RUNNING, T0)
    assert sut.status is S.RUNNING


def test_a_stopped_conversation_stays_stopped_while_the_runtime_calls_it_paused() -> None:
    sut = conversation(S.STOPPED)
    assert not sut.follow_runtime(RuntimeStatus.PAUSED, T0)
    assert not sut.follow_runtime(RuntimeStatus.IDLE, T0)
    assert sut.status is S.STOPPED


def test_host_states_say_nothing_and_stuck_is_an_error() -> None:
    sut = conversation(S.RUNNING)
    assert not sut.follow_runtime(RuntimeStatus.UNAVAILABLE, T0)
    assert not sut.follow_runtime(RuntimeStatus.STARTING, T0)
    assert sut.follow_runtime(RuntimeStatus.STUCK, T0)
    assert sut.status is S.ERROR


@given(st.lists(st.tuples(st.floats(0, 100), st.integers(0, 10**9), st.integers(0, 10**9))))
def test_usage_totals_only_grow(reports: list[tuple[float, int, int]]) -> None:
    sut = conversation(S.RUNNING)
    for cost, prompt, completion in reports:
        sut.record_usage(cost_usd=cost, prompt_tokens=prompt, completion_tokens=completion, now=T0)
    assert sut.cost_usd == max([r[0] for r in reports], default=0.0)
    assert sut.prompt_tokens == max([r[1] for r in reports], default=0)
    assert sut.completion_tokens == max([r[2] for r in reports], default=0)


def test_only_runtime_holding_statuses_count_against_limits() -> None:
    assert {s for s in S if s.holds_runtime} == {
        S.STARTING,
        S.RUNNING,
        S.IDLE,
        S.WAITING_FOR_CONFIRMATION,
    }


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("Fix the bug", "Fix the bug"),
        ("\n\n  First line  \nsecond", "First line"),
        ("word " * 30, ("word " * 12).strip() + "…"),
        ("x" * 80, "x" * 60 + "…"),
        ("   \n ", None),
        ("cat a.bin: \x00\x01ELF\nmore", "cat a.bin: ELF"),
        ("\x00\x00\nSecond", "Second"),
    ],
)
def test_a_title_from_a_first_message(message: str, title: str | None) -> None:
    found = ConversationTitle.from_message(message)
    assert (None if found is None else found.value) == title


@given(st.text(max_size=250))
def test_titles_are_one_clean_line_or_refused(raw: str) -> None:
    try:
        title = ConversationTitle(raw)
    except InvalidValueError as exc:
        assert exc.field == "title"
        return
    assert title.value == title.value.strip()
    assert "  " not in title.value
    assert 1 <= len(title.value) <= 200
    assert not [ch for ch in title.value if unicodedata.category(ch) in {"Cc", "Cs"}]


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("a\x00b", "a b"),
        ("bell\x07", "bell"),
        ("esc \x1b[31m red", "esc [31m red"),
        ("half \ud800 pair", "half pair"),
        ("  My   task ", "My task"),
    ],
)
def test_a_title_turns_control_characters_to_spaces(raw: str, cleaned: str) -> None:
    assert ConversationTitle(raw).value == cleaned


def test_a_title_of_nothing_but_control_characters_is_blank() -> None:
    with pytest.raises(InvalidValueError) as refused:
        ConversationTitle("\x00\x01\x1b")
    assert refused.value.field == "title"


def state(sut: Conversation) -> tuple[ConversationStatus, str | None]:
    return sut.status, sut.status_reason


def test_an_error_keeps_its_reason_until_the_next_run() -> None:
    sut = conversation(S.RUNNING)
    later = T0 + timedelta(seconds=1)
    assert sut.fail("The LLM cannot be reached:\n  connection refused\x00", later)
    assert (sut.status, sut.status_reason) == (
        S.ERROR,
        "The LLM cannot be reached: connection refused",
    )
    assert not sut.fail("The LLM cannot be reached: connection refused", later)
    assert sut.fail("x" * 600, later)
    assert sut.status_reason == "x" * 499 + "…"
    assert not sut.follow_runtime(RuntimeStatus.ERROR, later)
    assert sut.status_reason == "x" * 499 + "…"
    assert sut.follow_runtime(RuntimeStatus.RUNNING, later)
    assert state(sut) == (S.RUNNING, None)


def test_a_failure_the_runtime_reports_always_says_why() -> None:
    plain, stuck, told = conversation(S.RUNNING), conversation(S.RUNNING), conversation(S.IDLE)
    later = T0 + timedelta(seconds=1)
    assert plain.follow_runtime(RuntimeStatus.ERROR, later)
    assert stuck.follow_runtime(RuntimeStatus.STUCK, later)
    assert told.follow_runtime(RuntimeStatus.ERROR, later, reason="Budget exceeded")
    assert plain.status_reason == "The runtime reported an error."
    assert stuck.status_reason == "The agent was stuck in a loop."
    assert (told.status, told.status_reason) == (S.ERROR, "Budget exceeded")


@pytest.mark.parametrize("name", ["acme/widgets", "group/sub/project"])
def test_repository_names(name: str) -> None:
    assert RepositoryName(name).value == name


@pytest.mark.parametrize("name", ["widgets", "/x", "a/", "a//b", "a/../b", " a/b"])
def test_bad_repository_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        RepositoryName(name)
    assert refused.value.field == "repository"
