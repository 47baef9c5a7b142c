from domain.conversations.value_objects import ConversationId
from domain.shared.errors import ConflictError, DomainError, NotFoundError

__all__ = (
    "ConversationBudgetSpentError",
    "ConversationLimitReachedError",
    "ConversationNotFoundError",
    "InvalidStatusTransitionError",
    "LlmNotConfiguredError",
    "RuntimeConversationNotFoundError",
    "StaleFenceError",
    "budget_spent_reason",
)


class RuntimeConversationNotFoundError(NotFoundError):
    """The runtime has no conversation with this id (never started, deleted, or lost when the
    runtime restarted). Callers reach it only for a conversation we keep, so the API answers
    it as a conflict: the conversation is there, its runtime is not."""

    code = "conversation-runtime-lost"

    def __init__(self, conversation_id: ConversationId) -> None:
        super().__init__(
            f"The runtime no longer holds conversation {conversation_id}: it was lost when its "
            "runtime restarted or was replaced. Its events up to then are kept; start a new "
            "conversation to go on."
        )
        self.conversation_id = conversation_id


class ConversationNotFoundError(NotFoundError):
    """No conversation with this id is the caller's (another tenant's answers the same)."""

    code = "conversation-not-found"
    default_message = "There is no such conversation."


class InvalidStatusTransitionError(ConflictError):
    code = "invalid-status-transition"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"A {current} conversation cannot become {wanted}.")
        self.current = current
        self.wanted = wanted


class ConversationLimitReachedError(ConflictError):
    """Too many conversations hold a runtime already; ``limit`` is the one that was reached."""

    code = "conversation-limit-reached"

    def __init__(self, *, limit: int, scope: str) -> None:
        super().__init__(
            f"You already have {limit} running conversation{'s' if limit != 1 else ''} "
            f"{'in this organization' if scope == 'org' else 'of your own'}, the most allowed; "
            "pause or stop one first."
        )
        self.limit = limit
        self.scope = scope


class LlmNotConfiguredError(DomainError):
    """A conversation needs an LLM model and key from the caller's settings (or the org's
    defaults); ``missing`` names the settings that are not set, by attribute."""

    code = "llm-not-configured"

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(self.describe(missing), field=missing[0])
        self.missing = missing

    @staticmethod
    def describe(names: tuple[str, ...]) -> str:
        """The message, naming the missing settings as ``names``."""
        return (
            f"Set {' and '.join(names)} in your settings (POST /api/settings) before starting "
            "a conversation."
        )


class StaleFenceError(ConflictError):
    """An append carried a fencing token older than one the store has already seen: another
    owner took the conversation over, and this one must stop."""

    code = "stale-fence"
    default_message = "Another server owns this conversation's event stream now."


def _spent(budget: float, spent: float) -> str:
    return (
        f"LLM budget of ${budget:.2f} is spent (${spent:.2f}). Start a new conversation to go "
        "on, with a larger budget per task if need be."
    )


def budget_spent_reason(budget: float, spent: float) -> str:
    """Why a conversation whose budget is spent was paused."""
    return f"Paused: its {_spent(budget, spent)}"


class ConversationBudgetSpentError(ConflictError):
    """The conversation spent its LLM budget: it takes no more messages and does not resume."""

    code = "conversation-budget-spent"

    def __init__(self, *, budget: float, spent: float) -> None:
        super().__init__(f"This conversation's {_spent(budget, spent)}")
        self.budget = budget
        self.spent = spent
