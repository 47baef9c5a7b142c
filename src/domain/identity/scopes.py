from enum import StrEnum

__all__ = ("ALL_SCOPES", "Scope")


class Scope(StrEnum):
    """What a credential may do. Sessions and the local user hold every scope."""

    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_WRITE = "conversations:write"
    SETTINGS_READ = "settings:read"
    SETTINGS_WRITE = "settings:write"
    SECRETS_READ = "secrets:read"
    SECRETS_WRITE = "secrets:write"
    GIT_READ = "git:read"
    """See connected git providers and browse their repositories and branches."""
    GIT_WRITE = "git:write"
    """Connect and disconnect git providers."""
    ORG_ADMIN = "org:admin"


ALL_SCOPES = frozenset(Scope)
