from dataclasses import dataclass
from enum import StrEnum

from domain.conversations.entities import Tenant
from domain.conversations.value_objects import ConfirmationMode

__all__ = ("ConversationDefaults", "ConversationLimits", "LimitPolicy", "SandboxScope")


class LimitPolicy(StrEnum):
    """What starting one conversation too many does."""

    REJECT = "reject"
    """Refuse it (409, naming the limit)."""
    PAUSE_OLDEST = "pause_oldest"
    """Pause the least recently active idle conversation to make room; refuse when none is
    idle."""


class SandboxScope(StrEnum):
    """Whose agents share a sandbox."""

    ORG = "org"
    """Every member's of one organization."""
    USER = "user"
    """One person's, in one organization."""


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
    start_timeout_s: float = 900.0
    """How long a start may take, sandbox, clone and setup script included, before the
    conversation is marked failed with the phase it was stuck in."""
    sandbox: SandboxScope | None = None
    """Whose agents share a sandbox; None: no sandboxes (the runtime keeps tenants apart, or
    the operator chose one shared process)."""

    def sandbox_of(self, tenant: Tenant) -> str | None:
        """The sandbox ``tenant``'s conversations start in."""
        if self.sandbox is SandboxScope.ORG:
            return f"org-{tenant.org_id}"
        if self.sandbox is SandboxScope.USER:
            return f"user-{tenant.org_id}-{tenant.user_id}"
        return None
