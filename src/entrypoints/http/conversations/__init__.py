from entrypoints.http.conversations.controller import ConversationController
from entrypoints.http.conversations.socket import (
    CLOSE_SLOW_CLIENT,
    SocketPolicy,
    conversation_socket,
)

__all__ = ("CLOSE_SLOW_CLIENT", "ConversationController", "SocketPolicy", "conversation_socket")
