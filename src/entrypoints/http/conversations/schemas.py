from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from domain.conversations.entities import Conversation, ConversationStatus, StoredEvent
from domain.conversations.value_objects import EventType, StartPhase
from domain.git.providers import ProviderKind
from domain.resolver.triggers import ConversationTrigger

__all__ = (
    "AcceptedFrame",
    "ClientFrame",
    "ConfirmationAnswer",
    "ConversationCreate",
    "ConversationList",
    "ConversationOut",
    "ConversationUpdate",
    "ErrorFrame",
    "EventFrame",
    "EventList",
    "EventOut",
    "HeartbeatFrame",
    "MessageCreate",
    "MessageFrame",
)

_Text = Annotated[str, msgspec.Meta(max_length=100_000)]
_Repository = Annotated[str, msgspec.Meta(max_length=255, examples=["acme/widgets"])]
_Branch = Annotated[str, msgspec.Meta(max_length=255)]
_Images = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=2_000_000)]],
    msgspec.Meta(max_length=10, description="Image URLs: https: or data:image/..."),
]


class ConversationCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    repository: _Repository | None = None
    branch: _Branch | None = None
    git_provider: Annotated[
        ProviderKind | None, msgspec.Meta(description="The git host; with a repository.")
    ] = None
    message: Annotated[
        _Text | None, msgspec.Meta(description="The first message; none: the agent waits.")
    ] = None
    images: _Images = msgspec.field(default_factory=list)
    title: (
        Annotated[str, msgspec.Meta(max_length=200, description="None: from the first message.")]
        | None
    ) = None
    parent_id: Annotated[
        UUID | None,
        msgspec.Meta(
            description="Start it as a child of this conversation of yours (a top-level one), "
            "on its workspace, repository and branch; then name no repository or branch."
        ),
    ] = None


class ConversationUpdate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    title: Annotated[str, msgspec.Meta(max_length=200)]


class MessageCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    text: _Text | None = None
    images: _Images = msgspec.field(default_factory=list)


class ConfirmationAnswer(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    accept: Annotated[bool, msgspec.Meta(description="true runs the action, false rejects it.")]
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class ConversationOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    title: str | None
    repository: str | None
    branch: str | None
    git_provider: str | None
    parent_id: Annotated[
        UUID | None, msgspec.Meta(description="The conversation it was started under.")
    ]
    status: ConversationStatus
    status_reason: Annotated[
        str | None,
        msgspec.Meta(
            description="Why the conversation stands in `error`, or `paused` when its budget "
            "was spent."
        ),
    ]
    start_phase: Annotated[
        StartPhase | None,
        msgspec.Meta(
            description="How far its start got: `waiting_for_sandbox`, `starting_sandbox`, "
            "`cloning`, `setting_up` (the repository's `.openhands/setup.sh`), `ready`. A start "
            "that fails ends in `error` with the reason, in the phase it failed in."
        ),
    ]
    max_budget_usd: Annotated[
        float | None,
        msgspec.Meta(
            description="What it may spend on the LLM (the budget per task when it started); "
            "once spent, the run is paused and it takes no more messages."
        ),
    ]
    cost_usd: float
    prompt_tokens: int
    completion_tokens: int
    active_seconds: float
    trigger: Annotated[
        ConversationTrigger,
        msgspec.Meta(
            description="Where it was started from: `web`, `api`, or a provider's issue or "
            "pull request (`github`...)."
        ),
    ]
    origin_url: Annotated[
        str | None,
        msgspec.Meta(description="The issue or pull request it answers, when one started it."),
    ]
    pull_requests: Annotated[
        list[str], msgspec.Meta(description="The pull requests it opened, as far as known.")
    ]
    created_at: datetime
    updated_at: datetime
    experiments: Annotated[
        dict[str, str] | UnsetType,
        msgspec.Meta(
            description="The variant it runs with of each experiment it takes part in, kept "
            "from its start on (shown when one conversation is read)."
        ),
    ] = UNSET

    @classmethod
    def from_entity(
        cls, conversation: Conversation, experiments: Mapping[str, str] | None = None
    ) -> "ConversationOut":
        return cls(
            id=conversation.id_,
            title=None if conversation.title is None else conversation.title.value,
            repository=None if conversation.repository is None else conversation.repository.value,
            branch=conversation.branch,
            git_provider=(
                None if conversation.git_provider is None else conversation.git_provider.value
            ),
            parent_id=conversation.parent_id,
            status=conversation.status,
            status_reason=conversation.status_reason,
            start_phase=conversation.start_phase,
            max_budget_usd=conversation.max_budget_usd,
            cost_usd=conversation.cost_usd,
            prompt_tokens=conversation.prompt_tokens,
            completion_tokens=conversation.completion_tokens,
            active_seconds=round(conversation.active_seconds, 3),
            trigger=conversation.trigger,
            origin_url=conversation.origin_url,
            pull_requests=list(conversation.pull_requests),
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            experiments=UNSET if experiments is None else dict(experiments),
        )


class ConversationList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[ConversationOut]
    next_cursor: str | None


class EventOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    seq: int
    id: str
    kind: str
    source: str
    type: EventType
    occurred_at: datetime
    payload: dict[str, Any]
    """The runtime's event JSON as it came, kinds we do not know included."""

    @classmethod
    def from_entity(cls, event: StoredEvent) -> "EventOut":
        return cls(
            seq=event.seq,
            id=event.event_id,
            kind=event.kind,
            source=event.source,
            type=event.type,
            occurred_at=event.occurred_at,
            payload=dict(event.payload),
        )


class EventList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[EventOut]
    next_after: int | None


class EventFrame(msgspec.Struct, frozen=True, kw_only=True, tag="event", rename="camel"):
    event: EventOut


class HeartbeatFrame(msgspec.Struct, frozen=True, kw_only=True, tag="heartbeat", rename="camel"):
    at: datetime


class AcceptedFrame(msgspec.Struct, frozen=True, kw_only=True, tag="accepted", rename="camel"):
    """The message a client sent went to the agent."""


class ErrorFrame(msgspec.Struct, frozen=True, kw_only=True, tag="error", rename="camel"):
    code: str
    detail: str


class MessageFrame(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag="message",
    forbid_unknown_fields=True,
    rename="camel",
):
    text: _Text | None = None
    images: _Images = msgspec.field(default_factory=list)


ClientFrame = MessageFrame
"""What a client may send over the socket."""
