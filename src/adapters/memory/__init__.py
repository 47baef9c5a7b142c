from adapters.memory.locks import InProcessLocks
from adapters.memory.login_attempts import InProcessLoginAttemptStore

__all__ = ("InProcessLocks", "InProcessLoginAttemptStore")
