"""How many conversations may run at once, and what starting one too many does."""

from dataclasses import dataclass

from application.conversations.policy import LimitPolicy
from entrypoints.settings.fields import Section, setting
from entrypoints.settings.parsers import choice, int_in, seconds

__all__ = ("ConversationSettings",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationSettings(Section):
    """Limits on running conversations, per person and per organization."""

    limit_per_user: int | None = setting(
        "MAESTRIST_CONVERSATION_LIMIT_PER_USER",
        "Conversations one person may have running (starting, working, idle or waiting for a "
        "confirmation) at once in an organization (1-1000). Unset: no limit.",
        int_in(1, 1000),
        default=None,
    )
    limit_per_org: int | None = setting(
        "MAESTRIST_CONVERSATION_LIMIT_PER_ORG",
        "Conversations an organization's members may have running at once, together "
        "(1-100000). Unset: no limit.",
        int_in(1, 100_000),
        default=None,
    )
    limit_policy: LimitPolicy = setting(
        "MAESTRIST_CONVERSATION_LIMIT_POLICY",
        "What starting one conversation too many does: `reject` (409 naming the limit) or "
        "`pause_oldest` (pause the least recently active idle one; 409 when none is idle).",
        choice(LimitPolicy),
        default=LimitPolicy.REJECT,
    )
    start_timeout_s: float = setting(
        "MAESTRIST_CONVERSATION_START_TIMEOUT",
        "Seconds a conversation's start may take (its sandbox starting, the clone, the "
        "repository's setup script) before it ends in `error` naming the phase it was stuck in.",
        seconds,
        default=900.0,
    )
