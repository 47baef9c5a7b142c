from domain.conversations.value_objects import ConversationId
from domain.shared.errors import NotFoundError

__all__ = ("RuntimeConversationNotFoundError",)


class RuntimeConversationNotFoundError(NotFoundError):
    """The runtime has no conversation with this id (never started, or deleted)."""

    code = "runtime-conversation-not-found"

    def __init__(self, conversation_id: ConversationId) -> None:
        super().__init__(f"The runtime has no conversation {conversation_id}.")
        self.conversation_id = conversation_id
