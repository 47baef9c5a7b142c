from abc import abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from application.ports.api_key_repository import ApiKeyRepository
from application.ports.app_installations import AppInstallationStore
from application.ports.audit_log import AuditLog
from application.ports.billing_store import BillingStore
from application.ports.conversation_repository import ConversationRepository
from application.ports.event_callback_store import EventCallbackStore
from application.ports.event_store import EventStore
from application.ports.experiment_assignments import ExperimentAssignments
from application.ports.git_identities import GitIdentityStore
from application.ports.invitation_repository import InvitationRepository
from application.ports.job_queue import JobQueue
from application.ports.ledger import Ledger
from application.ports.org_repository import OrgRepository
from application.ports.provider_token_store import ProviderTokenStore
from application.ports.repository_hooks import RepositoryHookStore
from application.ports.resolver_settings import ResolverSettingsStore
from application.ports.resolver_threads import ResolverThreadStore
from application.ports.runtime_directory import RuntimeDirectory
from application.ports.secret_store import SecretStore
from application.ports.session_repository import SessionRepository
from application.ports.settings_store import SettingsStore
from application.ports.usage_records import UsageRecords
from application.ports.user_repository import UserRepository
from application.ports.webhook_inbox import WebhookInbox

__all__ = ("UnitOfWork", "UnitsOfWork")


class UnitOfWork(Protocol):
    """One transaction and every repository that works inside it.

    A use case reads and writes through these repositories and commits once, when what it
    decided is whole; helpers it calls return decisions and never commit. What is not
    committed is rolled back. A request gets one; work a server does on its own opens one
    with ``UnitsOfWork.begin()``.
    """

    users: UserRepository
    orgs: OrgRepository
    invitations: InvitationRepository
    api_keys: ApiKeyRepository
    sessions: SessionRepository
    audit: AuditLog
    settings: SettingsStore
    secrets: SecretStore
    provider_tokens: ProviderTokenStore
    conversations: ConversationRepository
    events: EventStore
    callbacks: EventCallbackStore
    experiments: ExperimentAssignments
    runtime_hosts: RuntimeDirectory
    jobs: JobQueue
    webhooks: WebhookInbox
    ledger: Ledger
    usage: UsageRecords
    billing: BillingStore
    app_installations: AppInstallationStore
    resolver_threads: ResolverThreadStore
    git_identities: GitIdentityStore
    repository_hooks: RepositoryHookStore
    resolver_settings: ResolverSettingsStore

    @abstractmethod
    async def commit(self) -> None:
        """Keep what the transaction wrote, then run what ``after_commit`` was given."""

    @abstractmethod
    async def rollback(self) -> None:
        """Drop what the transaction wrote, and what ``after_commit`` was given."""

    @abstractmethod
    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` right after the transaction's next commit, in the order given; a
        rollback, or a commit that fails, drops it unrun. For what must not be told of work
        that was not kept (a product analytics report). ``action`` must not raise."""


class UnitsOfWork(Protocol):
    """Opens units of work outside any request (the event ingest, background work)."""

    @abstractmethod
    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A fresh unit of work; what is not committed when the block ends is rolled back."""
