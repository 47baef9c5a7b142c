from dataclasses import dataclass
from enum import StrEnum

from domain.conversations.value_objects import ConfirmationMode

__all__ = ("ConversationDefaults", "ConversationLimits", "LimitPolicy")


class LimitPolicy(StrEnum):
    """What starting one conversation too many does."""

    REJECT = "reject"
    """Refuse it (409, naming the limit)."""
    PAUSE_OLDEST = "pause_oldest"
    """Pause the least recently active idle conversation to make room; refuse when none is
    idle."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationLimits:
    """How many conversations may hold a runtime at once, per member and per organization
    (None: no limit)."""

    per_user: int | None = None
    per_org: int | None = None
    policy: LimitPolicy = LimitPolicy.REJECT


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationDefaults:
    """What every conversation starts with: where workspaces go on the runtime's machine,
    the agent's tools, and where the runtime exchanges its git credential."""

    workspace_root: str
    git_token_url: str
    tools: tuple[str, ...] = ("terminal", "file_editor", "task_tracker")
    confirmation: ConfirmationMode = ConfirmationMode.NEVER
    llm_retries: int | None = None
