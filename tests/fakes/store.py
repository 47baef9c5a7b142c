import asyncio
import copy
from dataclasses import dataclass, field

from domain.audit.entities import AuditEvent
from domain.conversations.entities import CallbackId, Conversation, EventCallback, StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.api_keys import ApiKey, ApiKeyId
from domain.identity.entities import User, UserId
from domain.identity.sessions import Session, SessionId
from domain.organizations.entities import Membership, Organization, OrgId
from domain.organizations.invitations import Invitation, InvitationId
from domain.secrets.entities import CustomSecret, SecretId
from domain.settings.entities import OrgSettings, UserSettings


class EventLog(list[StoredEvent]):
    """Stored events are immutable: a copy of the tables shares them."""

    def __deepcopy__(self, memo: object) -> "EventLog":
        return EventLog(self)


@dataclass
class _Tables:
    users: dict[UserId, User] = field(default_factory=dict)
    orgs: dict[OrgId, Organization] = field(default_factory=dict)
    memberships: dict[tuple[OrgId, UserId], Membership] = field(default_factory=dict)
    invitations: dict[InvitationId, Invitation] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    api_keys: dict[ApiKeyId, ApiKey] = field(default_factory=dict)
    sessions: dict[SessionId, Session] = field(default_factory=dict)
    user_settings: dict[UserId, UserSettings] = field(default_factory=dict)
    org_settings: dict[OrgId, OrgSettings] = field(default_factory=dict)
    secrets: dict[SecretId, CustomSecret] = field(default_factory=dict)
    provider_tokens: dict[tuple[UserId, ProviderKind], ProviderToken] = field(default_factory=dict)
    conversations: dict[ConversationId, Conversation] = field(default_factory=dict)
    events: dict[ConversationId, EventLog] = field(default_factory=dict)
    fences: dict[ConversationId, int] = field(default_factory=dict)
    callbacks: dict[CallbackId, EventCallback] = field(default_factory=dict)


class FakeStore:
    """The rows every fake repository shares, with commit and rollback like a database."""

    def __init__(self) -> None:
        self.live = _Tables()
        self._committed = _Tables()
        self.commits = 0
        self.admission_locks: dict[OrgId, asyncio.Lock] = {}
        """Held by a transaction admitting conversations in the organization, until it ends."""

    def commit(self) -> None:
        self._committed = copy.deepcopy(self.live)
        self.commits += 1

    def rollback(self) -> None:
        self.live = copy.deepcopy(self._committed)

    @property
    def committed(self) -> _Tables:
        return self._committed
