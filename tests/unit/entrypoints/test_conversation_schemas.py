"""The conversation wire schemas survive encode -> decode; frames carry their type tag; request
bodies refuse unknown fields; keys are camelCase."""

from datetime import UTC
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.conversations.entities import ConversationStatus
from domain.conversations.value_objects import EventType
from domain.git.providers import ProviderKind
from entrypoints.http.conversations.schemas import (
    AcceptedFrame,
    ConfirmationAnswer,
    ConversationCreate,
    ConversationList,
    ConversationOut,
    ConversationUpdate,
    ErrorFrame,
    EventFrame,
    EventList,
    EventOut,
    HeartbeatFrame,
    MessageCreate,
    MessageFrame,
)

aware = st.datetimes(timezones=st.just(UTC))
text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)
conversations = st.builds(
    ConversationOut,
    status=st.sampled_from(ConversationStatus),
    cost_usd=st.floats(0, 1e6),
    max_budget_usd=st.none() | st.floats(0, 1e6),
    active_seconds=st.floats(0, 1e6),
    created_at=aware,
    updated_at=aware,
)
events = st.builds(
    EventOut,
    type=st.sampled_from(EventType),
    occurred_at=aware,
    payload=st.dictionaries(text, json_values, max_size=4),
)
SCHEMAS: dict[type[Any], st.SearchStrategy[Any]] = {
    ConversationCreate: st.builds(
        ConversationCreate,
        repository=st.none() | text,
        branch=st.none() | text,
        git_provider=st.none() | st.sampled_from(ProviderKind),
        message=st.none() | text,
        images=st.lists(text, max_size=3),
        title=st.none() | text,
    ),
    ConversationUpdate: st.builds(ConversationUpdate, title=text),
    MessageCreate: st.builds(
        MessageCreate, text=st.none() | text, images=st.lists(text, max_size=3)
    ),
    ConfirmationAnswer: st.builds(ConfirmationAnswer, reason=text),
    ConversationOut: conversations,
    ConversationList: st.builds(ConversationList, items=st.lists(conversations, max_size=2)),
    EventOut: events,
    EventList: st.builds(EventList, items=st.lists(events, max_size=2)),
    EventFrame: st.builds(EventFrame, event=events),
    HeartbeatFrame: st.builds(HeartbeatFrame, at=aware),
    AcceptedFrame: st.builds(AcceptedFrame),
    ErrorFrame: st.builds(ErrorFrame),
    MessageFrame: st.builds(MessageFrame, text=st.none() | text, images=st.lists(text, max_size=3)),
}


@pytest.mark.parametrize("schema", list(SCHEMAS), ids=lambda s: s.__name__)
@given(data=st.data())
def test_round_trip(schema: type[Any], data: st.DataObject) -> None:
    value = data.draw(SCHEMAS[schema])
    assert msgspec.json.decode(msgspec.json.encode(value), type=schema) == value


def test_server_frames_are_told_apart_by_their_type() -> None:
    frames = msgspec.json.decode(
        b'[{"type": "accepted"}, {"type": "error", "code": "c", "detail": "d"},'
        b' {"type": "heartbeat", "at": "2026-01-01T00:00:00Z"}]',
        type=list[AcceptedFrame | ErrorFrame | HeartbeatFrame],
    )
    assert [type(f) for f in frames] == [AcceptedFrame, ErrorFrame, HeartbeatFrame]


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        (ConversationCreate, b'{"repo": "a/b"}'),
        (MessageCreate, b'{"text": "hi", "run": false}'),
        (ConfirmationAnswer, b'{"accept": true, "why": "x"}'),
        (MessageFrame, b'{"type": "message", "text": "hi", "extra": 1}'),
    ],
)
def test_request_bodies_refuse_unknown_fields(schema: type[Any], body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(body, type=schema)


def test_keys_are_camel_case() -> None:
    created = msgspec.json.decode(b'{"gitProvider": "github"}', type=ConversationCreate)
    assert created.git_provider == "github"
    listed = msgspec.json.decode(
        msgspec.json.encode(EventList(items=[], next_after=3)), type=dict[str, Any]
    )
    assert listed == {"items": [], "nextAfter": 3}
