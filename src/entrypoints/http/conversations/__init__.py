from entrypoints.http.conversations.controller import ConversationController
from entrypoints.http.conversations.socket import (
    CLOSE_SLOW_CLIENT,
    CLOSE_TRY_AGAIN,
    SocketPolicy,
    conversation_socket,
)

__all__ = (
    "CLOSE_SLOW_CLIENT",
    "CLOSE_TRY_AGAIN",
    "ConversationController",
    "SocketPolicy",
    "conversation_socket",
)
