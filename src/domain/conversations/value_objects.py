"""What the conversation runtime speaks: ids, statuses, events, message parts, start specs."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, NewType
from urllib.parse import urlsplit
from uuid import UUID

from domain.settings.mcp import McpConfig
from domain.shared.errors import InvalidValueError

__all__ = (
    "SERVER_SOURCE",
    "ConfirmationMode",
    "ConversationId",
    "EventType",
    "GitAccess",
    "HostHealth",
    "HostInfo",
    "ImagePart",
    "MessagePart",
    "RepositoryCheckout",
    "RuntimeEvent",
    "RuntimeStatus",
    "StartSpec",
    "TextPart",
    "Usage",
    "start_failed_note",
    "start_phase_note",
)

ConversationId = NewType("ConversationId", UUID)
"""We mint it; the runtime uses the same id, so one id serves everywhere."""


class StartPhase(StrEnum):
    """Where a conversation's start stands, as it happens; ``ready`` once the runtime holds
    it. A start that fails ends the conversation in ``error`` with the reason, the phase it
    failed in kept."""

    WAITING_FOR_SANDBOX = "waiting_for_sandbox"
    STARTING_SANDBOX = "starting_sandbox"
    CLONING = "cloning"
    SETTING_UP = "setting_up"
    READY = "ready"


class RuntimeStatus(StrEnum):
    """Where a conversation stands on its runtime. ``starting`` and ``unavailable`` come from the
    host; the others are what the runtime reports. A hard stop leaves a conversation ``paused``."""

    STARTING = "starting"
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING_FOR_CONFIRMATION = "waiting_for_confirmation"
    FINISHED = "finished"
    ERROR = "error"
    STUCK = "stuck"
    UNAVAILABLE = "unavailable"

    @property
    def is_terminal(self) -> bool:
        """The run is over: only a new message starts another."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """The agent is working or waiting for an answer."""
        return self in {RuntimeStatus.RUNNING, RuntimeStatus.WAITING_FOR_CONFIRMATION}


_TERMINAL = frozenset({RuntimeStatus.FINISHED, RuntimeStatus.ERROR, RuntimeStatus.STUCK})


class EventType(StrEnum):
    """A coarse class of event, derived from its open-ended ``kind``."""

    MESSAGE = "message"
    ACTION = "action"
    OBSERVATION = "observation"
    STATUS = "status"
    ERROR = "error"
    OTHER = "other"


class ConfirmationMode(StrEnum):
    """Whether the agent asks before it acts: never, always, or for risky actions only."""

    NEVER = "never"
    ALWAYS = "always"
    RISKY = "risky"


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """What a conversation's LLM calls have cost so far: running totals the runtime reports,
    summed over every LLM it uses; ``model`` is the agent's, when the runtime names it."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    model: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeEvent:
    """One event of the runtime's log, read by its adapter into what we act on; ``kind`` is
    the runtime's own name, kept opaque, and ``payload`` its JSON, whole (kinds we do not
    know survive) but with every credential already redacted: what we store and replay.

    ``terminal`` marks the event that ends a run; ``status`` is the execution status a status
    event reports, ``usage`` the running totals a usage report carries, ``interrupted`` marks
    a hard stop (the runtime calls it paused, the owner stopped it) and ``failure`` says why a
    run failed.
    """

    event_id: str
    conversation_id: ConversationId
    kind: str
    source: str
    type: EventType
    occurred_at: datetime
    payload: Mapping[str, Any]
    terminal: bool = False
    status: RuntimeStatus | None = None
    usage: Usage | None = None
    interrupted: bool = False
    failure: str | None = None

    def __post_init__(self) -> None:
        if not self.event_id:
            raise InvalidValueError("A runtime event needs an id.", field="event_id")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise InvalidValueError("Event times are aware (UTC).", field="occurred_at")
        if not isinstance(self.payload, MappingProxyType):
            object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))


SERVER_SOURCE = "server"
"""The source of the events this server notes in a conversation's log itself, beside the
runtime's: a start's phases and its failure, which happen before any runtime holds it."""

START_PHASE_KIND = "StartPhaseChanged"
START_FAILED_KIND = "StartFailed"


def start_phase_note(
    conversation_id: ConversationId, phase: StartPhase, at: datetime
) -> RuntimeEvent:
    """The event that tells a conversation's watchers its start reached ``phase``."""
    return RuntimeEvent(
        event_id=f"start-phase-{phase.value}",
        conversation_id=conversation_id,
        kind=START_PHASE_KIND,
        source=SERVER_SOURCE,
        type=EventType.STATUS,
        occurred_at=at,
        payload={"kind": START_PHASE_KIND, "phase": phase.value},
    )


def start_failed_note(
    conversation_id: ConversationId, phase: StartPhase | None, reason: str, at: datetime
) -> RuntimeEvent:
    """The event that tells a conversation's watchers its start failed, in which phase and
    why."""
    return RuntimeEvent(
        event_id="start-failed",
        conversation_id=conversation_id,
        kind=START_FAILED_KIND,
        source=SERVER_SOURCE,
        type=EventType.ERROR,
        occurred_at=at,
        payload={
            "kind": START_FAILED_KIND,
            "phase": None if phase is None else phase.value,
            "reason": reason,
        },
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TextPart:
    text: str

    def __post_init__(self) -> None:
        if not self.text:
            raise InvalidValueError("A text part cannot be empty.", field="text")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePart:
    """An image by URL (``https:`` or a ``data:`` URL)."""

    url: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://", "data:image/")):
            raise InvalidValueError("An image is an http(s) or data:image URL.", field="url")


MessagePart = TextPart | ImagePart


@dataclass(frozen=True, slots=True, kw_only=True)
class GitAccess:
    """How the agent gets a git provider token without holding one: it calls ``token_url``
    with ``credential`` (a short-lived signed grant) in ``X-Access-Token``."""

    provider: str
    token_url: str
    credential: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryCheckout:
    """The repository to clone into the workspace before the agent starts.

    ``clone_url`` carries no credentials: the runtime's git asks ``GitAccess.token_url`` for
    the provider token with the short-lived credential, and sends it as the password of
    ``username`` (``x-access-token`` on GitHub, ``oauth2`` on GitLab, ``x-token-auth`` on
    Bitbucket; a ``user:app-password`` token brings its own username).
    """

    clone_url: str
    username: str
    branch: str | None = None
    author_name: str | None = None
    author_email: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.clone_url)
        if (
            parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.username
            or parts.password
            or parts.query
            or parts.fragment
        ):
            raise InvalidValueError(
                "A clone URL is http(s), with no credentials, query or fragment.",
                field="repository",
            )
        if self.branch is not None and not _BRANCH.fullmatch(self.branch):
            raise InvalidValueError("Not a branch name git accepts.", field="branch")


_BRANCH = re.compile(r"(?!-)(?!.*\.\.)[^\x00-\x20\x7f~^:?*\[\\]{1,255}")
"""What ``git check-ref-format --branch`` accepts, near enough: no leading dash, no ``..``,
no spaces, control characters, backslashes or ``~^:?*[``."""

_TOOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_TAG_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StartSpec:
    """How to start a conversation on a runtime.

    ``tools`` are registry names (``terminal``, ``file_editor``), never class names;
    ``workspace_dir`` is an absolute path on the runtime's machine. ``api_key`` is never shown
    in ``repr``. ``extras`` carries options only one runtime understands.
    """

    conversation_id: ConversationId
    model: str
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    workspace_dir: str
    tools: tuple[str, ...] = ()
    confirmation: ConfirmationMode = ConfirmationMode.NEVER
    max_iterations: int = 500
    llm_retries: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Environment secrets for the agent, by name."""
    git: GitAccess | None = None
    checkout: RepositoryCheckout | None = None
    """Cloned into ``workspace_dir`` (with ``git``'s credential) before the conversation is
    created; a workspace that already holds a clone is kept as it is."""
    language: str | None = None
    """The language (a BCP 47 tag) the agent is asked to write to the user in."""
    parent_id: ConversationId | None = None
    """A conversation on the same workspace this one is a child of (the runtime lists it
    under it)."""
    mcp: McpConfig | None = field(default=None, repr=False)
    """The MCP servers the agent may use as tools; their keys and environments are secrets."""
    sandbox: str | None = None
    """The sandbox the agent runs in, shared with no other tenant (``org-<id>`` or
    ``user-<id>``); None runs it where runtimes without sandboxes do. A child runs in its
    parent's."""

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidValueError("Name the LLM model.", field="model")
        if not PurePosixPath(self.workspace_dir).is_absolute():
            raise InvalidValueError("The workspace is an absolute path.", field="workspace_dir")
        bad = [name for name in self.tools if not _TOOL_NAME.fullmatch(name)]
        if bad:
            raise InvalidValueError(
                f"Tools are registry names like `terminal`, not {', '.join(bad)}.", field="tools"
            )
        if not 1 <= self.max_iterations <= 10_000:
            raise InvalidValueError("max_iterations is 1 to 10000.", field="max_iterations")
        if self.llm_retries is not None and not 0 <= self.llm_retries <= 20:
            raise InvalidValueError("llm_retries is 0 to 20.", field="llm_retries")
        bad = [key for key in self.tags if not _TAG_KEY.fullmatch(key)]
        if bad:
            raise InvalidValueError(
                f"Tag keys are lower-case names, not {', '.join(bad)}.", field="tags"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class HostInfo:
    """Where a runtime host answers and the key it wants; never shown in ``repr``."""

    base_url: str
    session_key: str = field(repr=False)
    version: str | None = None


class HostHealth(StrEnum):
    UP = "up"
    STARTING = "starting"
    DOWN = "down"
