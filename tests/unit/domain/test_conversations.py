from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.conversations import (
    ConversationId,
    EventType,
    ImagePart,
    RuntimeEvent,
    RuntimeStatus,
    StartSpec,
    TextPart,
)
from domain.shared.errors import InvalidValueError


def spec(**changes: object) -> StartSpec:
    values: dict[str, object] = {
        "conversation_id": ConversationId(uuid4()),
        "model": "openai/gpt-4o",
        "workspace_dir": "/work/repo",
        **changes,
    }
    return StartSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"model": " "}, "model"),
        ({"workspace_dir": "relative/path"}, "workspace_dir"),
        ({"tools": ("terminal", "Terminal Tool")}, "tools"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"llm_retries": -1}, "llm_retries"),
        ({"tags": {"Tenant": "x"}}, "tags"),
    ],
)
def test_a_start_spec_names_the_field_it_refuses(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        spec(**changes)
    assert caught.value.field == field


def test_a_start_spec_never_shows_its_api_key() -> None:
    assert "sk-secret" not in repr(spec(api_key="sk-secret"))


@given(st.sampled_from(list(RuntimeStatus)))
def test_only_finished_error_and_stuck_end_a_run(status: RuntimeStatus) -> None:
    assert status.is_terminal == (status.value in {"finished", "error", "stuck"})


def test_an_event_needs_an_aware_time_and_keeps_its_json_read_only() -> None:
    payload = {"id": "e1", "kind": "NewKind", "nested": {"a": 1}}
    kwargs: dict[str, object] = {
        "event_id": "e1",
        "conversation_id": ConversationId(uuid4()),
        "kind": "NewKind",
        "source": "agent",
        "type": EventType.OTHER,
        "payload": payload,
    }
    with pytest.raises(InvalidValueError):
        RuntimeEvent(occurred_at=datetime(2026, 1, 1), **kwargs)  # type: ignore[arg-type]  # noqa: DTZ001
    event = RuntimeEvent(occurred_at=datetime(2026, 1, 1, tzinfo=UTC), **kwargs)  # type: ignore[arg-type]
    payload["kind"] = "Changed"
    assert event.payload["kind"] == "NewKind"
    with pytest.raises(TypeError):
        event.payload["kind"] = "x"  # type: ignore[index]


def test_message_parts_refuse_empty_text_and_foreign_urls() -> None:
    with pytest.raises(InvalidValueError):
        TextPart(text="")
    with pytest.raises(InvalidValueError):
        ImagePart(url="file:///etc/passwd")
    assert ImagePart(url="data:image/png;base64,AAAA").url.startswith("data:")
