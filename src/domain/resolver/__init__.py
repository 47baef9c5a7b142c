from domain.resolver.entities import (
    TOKEN_REFRESH_MARGIN,
    AppInstallation,
    GitIdentity,
    InstallationNotFoundError,
    InstallationTakenError,
    InstallationToken,
    ResolverThread,
)
from domain.resolver.triggers import (
    ConversationTrigger,
    EventSender,
    ResolverPolicy,
    ThreadEvent,
    ThreadEventKind,
    ThreadRef,
    TriggerKind,
    mentions,
)

__all__ = (
    "TOKEN_REFRESH_MARGIN",
    "AppInstallation",
    "ConversationTrigger",
    "EventSender",
    "GitIdentity",
    "InstallationNotFoundError",
    "InstallationTakenError",
    "InstallationToken",
    "ResolverPolicy",
    "ResolverThread",
    "ThreadEvent",
    "ThreadEventKind",
    "ThreadRef",
    "TriggerKind",
    "mentions",
)
