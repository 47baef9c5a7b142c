from application.conversations.callbacks import CallbackProcessors
from application.conversations.check_access import (
    CheckConversationAccess,
    CheckConversationAccessRequest,
    ConversationAccess,
)
from application.conversations.control_conversation import (
    PauseConversation,
    RespondToConfirmation,
    ResumeConversation,
    SendMessage,
    StopConversation,
)
from application.conversations.delete_conversation import DeleteConversation
from application.conversations.feed import ConversationFeed
from application.conversations.get_conversation import GetConversation
from application.conversations.ingest import ConversationIngest
from application.conversations.limits import ConcurrencyGate
from application.conversations.list_events import EventPage, ListEvents
from application.conversations.policy import (
    ConversationDefaults,
    ConversationLimits,
    LimitPolicy,
)
from application.conversations.rename_conversation import RenameConversation
from application.conversations.search_conversations import (
    SearchConversations,
    SearchConversationsRequest,
)
from application.conversations.start_conversation import (
    StartConversation,
    StartConversationRequest,
)

__all__ = (
    "CallbackProcessors",
    "CheckConversationAccess",
    "CheckConversationAccessRequest",
    "ConcurrencyGate",
    "ConversationAccess",
    "ConversationDefaults",
    "ConversationFeed",
    "ConversationIngest",
    "ConversationLimits",
    "DeleteConversation",
    "EventPage",
    "GetConversation",
    "LimitPolicy",
    "ListEvents",
    "PauseConversation",
    "RenameConversation",
    "RespondToConfirmation",
    "ResumeConversation",
    "SearchConversations",
    "SearchConversationsRequest",
    "SendMessage",
    "StartConversation",
    "StartConversationRequest",
    "StopConversation",
)
