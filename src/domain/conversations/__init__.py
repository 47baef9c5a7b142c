from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import (
    ConfirmationMode,
    ConversationId,
    EventType,
    GitAccess,
    HostHealth,
    HostInfo,
    ImagePart,
    MessagePart,
    RepositoryCheckout,
    RuntimeEvent,
    RuntimeStatus,
    StartSpec,
    TextPart,
)

__all__ = (
    "ConfirmationMode",
    "ConversationId",
    "EventType",
    "GitAccess",
    "HostHealth",
    "HostInfo",
    "ImagePart",
    "MessagePart",
    "RepositoryCheckout",
    "RuntimeConversationNotFoundError",
    "RuntimeEvent",
    "RuntimeStatus",
    "StartSpec",
    "TextPart",
)
