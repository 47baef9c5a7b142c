from entrypoints.http.conversations.controller import ConversationController
from entrypoints.http.conversations.socket import (
    CLOSE_GOING_AWAY,
    CLOSE_SLOW_CLIENT,
    CLOSE_TRY_AGAIN,
    OpenSockets,
    SocketPolicy,
    conversation_socket,
)

__all__ = (
    "CLOSE_GOING_AWAY",
    "CLOSE_SLOW_CLIENT",
    "CLOSE_TRY_AGAIN",
    "ConversationController",
    "OpenSockets",
    "SocketPolicy",
    "conversation_socket",
)
