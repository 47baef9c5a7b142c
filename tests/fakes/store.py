import asyncio
import copy
import pickle
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from application.ports.runtime_directory import RuntimeAddress
from domain.audit.entities import AuditEvent
from domain.billing.ledger import LedgerEntry, LedgerEntryId
from domain.billing.payments import Purchase, PurchaseId, Subscription
from domain.billing.usage import UsageRecord, UsageRecordId
from domain.conversations.entities import CallbackId, Conversation, EventCallback, StoredEvent
from domain.conversations.errors import StaleFenceError
from domain.conversations.value_objects import ConversationId
from domain.experiments.assignments import ExperimentAssignment
from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.api_keys import ApiKey, ApiKeyId
from domain.identity.entities import User, UserId
from domain.identity.sessions import Session, SessionId
from domain.jobs.entities import Job, JobId
from domain.organizations.entities import Membership, Organization, OrgId
from domain.organizations.invitations import Invitation, InvitationId
from domain.resolver.entities import (
    AppInstallation,
    GitIdentity,
    RepositoryHook,
    ResolverSettings,
    ResolverThread,
)
from domain.secrets.entities import CustomSecret, SecretId
from domain.settings.entities import OrgSettings, UserSettings
from domain.webhooks.entities import WebhookDelivery, WebhookDeliveryId


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
    experiments: dict[tuple[ConversationId, str], ExperimentAssignment] = field(
        default_factory=dict
    )
    runtime_hosts: dict[tuple[str, str], RuntimeAddress] = field(default_factory=dict)
    placements: dict[ConversationId, tuple[str, str]] = field(default_factory=dict)
    jobs: dict[JobId, Job] = field(default_factory=dict)
    job_schedules: dict[str, datetime] = field(default_factory=dict)
    webhook_deliveries: dict[WebhookDeliveryId, WebhookDelivery] = field(default_factory=dict)
    ledger: dict[LedgerEntryId, LedgerEntry] = field(default_factory=dict)
    balances: dict[OrgId, int] = field(default_factory=dict)
    member_caps: dict[OrgId, int] = field(default_factory=dict)
    usage: dict[UsageRecordId, UsageRecord] = field(default_factory=dict)
    billing_customers: dict[OrgId, str] = field(default_factory=dict)
    purchases: dict[PurchaseId, Purchase] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    app_installations: dict[tuple[ProviderKind, str], AppInstallation] = field(default_factory=dict)
    resolver_threads: dict[tuple[ProviderKind, str, int], ResolverThread] = field(
        default_factory=dict
    )
    git_identities: dict[tuple[UserId, ProviderKind], GitIdentity] = field(default_factory=dict)
    repository_hooks: dict[str, RepositoryHook] = field(default_factory=dict)
    resolver_settings: dict[OrgId, ResolverSettings] = field(default_factory=dict)


class FakeStore:
    """The committed rows every fake repository shares, with commit and rollback like a
    database. Tests may seed and read ``live`` directly; each ``FakeUnitOfWork`` works on a
    ``FakeTransaction`` of its own over it."""

    def __init__(self) -> None:
        self.live = _Tables()
        self._committed = _Tables()
        self.commits = 0
        self.admission_locks: dict[OrgId, asyncio.Lock] = {}
        """Held by a transaction admitting conversations in the organization, until it ends."""
        self.lock_waiters = 0
        """How many transactions wait now for an admission lock another one holds."""
        self.row_locks: dict[object, asyncio.Event] = {}
        """Rows (jobs, job keys, schedules) a transaction changed, as SQL row locks: held until
        it ends, when the event is set."""

    def commit(self) -> None:
        self._committed = copy.deepcopy(self.live)
        self.commits += 1

    def rollback(self) -> None:
        self.live = copy.deepcopy(self._committed)

    @property
    def committed(self) -> _Tables:
        return self._committed

    @property
    def root(self) -> "FakeStore":
        """The store itself; a transaction's is the store it works on."""
        return self

    def transaction(self) -> "FakeTransaction":
        return FakeTransaction(self)


_GONE = object()


class FakeTransaction(FakeStore):
    """One transaction's view of a ``FakeStore``, read committed as PostgreSQL's default: each
    read sees the latest committed rows plus this transaction's own writes, which no other
    transaction sees before ``commit``. A row written by two transactions: the last commit
    wins, except that events appended to one conversation by two at once, or a fence lowered
    below one committed meanwhile, are refused with ``StaleFenceError`` as in SQL."""

    _writes: dict[str, dict[Any, Any]]
    _audit: list[AuditEvent]
    _events: dict[ConversationId, tuple[int, list[StoredEvent]]]
    """Per conversation: the committed log's length when this transaction first appended to
    it, and what it appended."""
    _view: _Tables | None
    _base: _Tables | None
    _seen: int

    def __init__(self, root: FakeStore) -> None:
        self._root = root
        self.admission_locks = root.admission_locks
        self.row_locks = root.row_locks
        self.rollback()

    @property
    def commits(self) -> int:  # type: ignore[override]
        return self._root.commits

    @property
    def live(self) -> _Tables:  # type: ignore[override]
        """Rebuilt when another transaction committed since it was last built."""
        if self._view is None or self._seen != self._root.commits:
            self._collect()
            self._seen = self._root.commits
            self._view = copy.deepcopy(self._root.live)
            self._apply(self._view, check=False)
            self._base = copy.deepcopy(self._view)
        return self._view

    @property
    def committed(self) -> _Tables:
        return self._root.committed

    @property
    def root(self) -> FakeStore:
        return self._root

    def commit(self) -> None:
        self._collect()
        self._apply(self._root.live, check=True)
        self._root.commit()
        self.rollback()

    def rollback(self) -> None:
        self._writes = {}
        self._audit = []
        self._events = {}
        self._view = self._base = None
        self._seen = -1

    def _collect(self) -> None:
        """Record what was changed in the view handed out last, against what it started as."""
        view, base = self._view, self._base
        if view is None or base is None:
            return
        self._audit.extend(view.audit[len(base.audit) :])
        for key, log in view.events.items():
            old = base.events.get(key, EventLog())
            if len(log) > len(old):
                since, appended = self._events.get(key, (len(old), []))
                self._events[key] = (since, appended + log[len(old) :])
        for table in fields(_Tables):
            if table.name == "audit":
                continue
            before, after = getattr(base, table.name), getattr(view, table.name)
            writes = self._writes.setdefault(table.name, {})
            for key in before.keys() | after.keys():
                old, new = before.get(key, _GONE), after.get(key, _GONE)
                if table.name == "events":
                    if new is _GONE and old is not _GONE:
                        writes[key] = _GONE
                        self._events.pop(key, None)
                elif new is _GONE or old is _GONE or pickle.dumps(old) != pickle.dumps(new):
                    writes[key] = new

    def _apply(self, tables: _Tables, *, check: bool) -> None:
        tables.audit.extend(copy.deepcopy(self._audit))
        for name, writes in self._writes.items():
            rows = getattr(tables, name)
            for key, new in writes.items():
                if new is _GONE:
                    rows.pop(key, None)
                elif name == "fences" and check and rows.get(key, 0) > new:
                    raise StaleFenceError
                else:
                    rows[key] = copy.deepcopy(new)
        for key, (since, appended) in self._events.items():
            log = tables.events.setdefault(key, EventLog())
            if check and len(log) != since:
                raise StaleFenceError
            log.extend(appended)
