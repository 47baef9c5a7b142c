from application.conversations.access_check import ConversationAccess, ConversationAccessCheck
from application.conversations.callbacks import CallbackProcessors
from application.conversations.delete_conversation import (
    DeleteConversation,
    DeleteConversationRequest,
)
from application.conversations.feed import ConversationFeed
from application.conversations.get_conversation import (
    GetConversation,
    GetConversationRequest,
    GetConversationResult,
)
from application.conversations.ingest import ConversationIngest
from application.conversations.limits import Admission, ConcurrencyGate
from application.conversations.list_events import ListEvents, ListEventsRequest, ListEventsResult
from application.conversations.message_delivery import MessageDelivery, PreparedMessage
from application.conversations.open_conversation_stream import (
    ConversationStream,
    OpenConversationStream,
    OpenConversationStreamRequest,
    OpenConversationStreamResult,
    StreamAccessLostError,
    StreamTurn,
    StreamTurns,
)
from application.conversations.pause_conversation import (
    PauseConversation,
    PauseConversationRequest,
)
from application.conversations.policy import (
    ConversationDefaults,
    ConversationLimits,
    LimitPolicy,
)
from application.conversations.rename_conversation import (
    RenameConversation,
    RenameConversationRequest,
    RenameConversationResult,
)
from application.conversations.respond_to_confirmation import (
    RespondToConfirmation,
    RespondToConfirmationRequest,
)
from application.conversations.resume_conversation import (
    ResumeConversation,
    ResumeConversationRequest,
)
from application.conversations.resume_held import ResumeHeldConversation
from application.conversations.search_conversations import (
    SearchConversations,
    SearchConversationsRequest,
    SearchConversationsResult,
)
from application.conversations.send_message import SendMessage, SendMessageRequest
from application.conversations.start_conversation import (
    StartConversation,
    StartConversationRequest,
    StartConversationResult,
)
from application.conversations.start_reports import StartReports, StartsInProgress
from application.conversations.stop_conversation import StopConversation, StopConversationRequest

__all__ = (
    "Admission",
    "CallbackProcessors",
    "ConcurrencyGate",
    "ConversationAccess",
    "ConversationAccessCheck",
    "ConversationDefaults",
    "ConversationFeed",
    "ConversationIngest",
    "ConversationLimits",
    "ConversationStream",
    "DeleteConversation",
    "DeleteConversationRequest",
    "GetConversation",
    "GetConversationRequest",
    "GetConversationResult",
    "LimitPolicy",
    "ListEvents",
    "ListEventsRequest",
    "ListEventsResult",
    "MessageDelivery",
    "OpenConversationStream",
    "OpenConversationStreamRequest",
    "OpenConversationStreamResult",
    "PauseConversation",
    "PauseConversationRequest",
    "PreparedMessage",
    "RenameConversation",
    "RenameConversationRequest",
    "RenameConversationResult",
    "RespondToConfirmation",
    "RespondToConfirmationRequest",
    "ResumeConversation",
    "ResumeConversationRequest",
    "ResumeHeldConversation",
    "SearchConversations",
    "SearchConversationsRequest",
    "SearchConversationsResult",
    "SendMessage",
    "SendMessageRequest",
    "StartConversation",
    "StartConversationRequest",
    "StartConversationResult",
    "StartReports",
    "StartsInProgress",
    "StopConversation",
    "StopConversationRequest",
    "StreamAccessLostError",
    "StreamTurn",
    "StreamTurns",
)
