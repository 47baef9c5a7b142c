from adapters.memory.access_revocations import InProcessAccessRevocations
from adapters.memory.conversation_coordinator import InProcessConversationCoordinator
from adapters.memory.locks import InProcessLocks
from adapters.memory.login_attempts import InProcessLoginAttemptStore

__all__ = (
    "InProcessAccessRevocations",
    "InProcessConversationCoordinator",
    "InProcessLocks",
    "InProcessLoginAttemptStore",
)
