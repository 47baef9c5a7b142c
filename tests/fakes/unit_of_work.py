from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from application.ports.cipher import Cipher
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from tests.fakes.api_key_repository import FakeApiKeyRepository
from tests.fakes.app_installations import FakeAppInstallationStore
from tests.fakes.audit_log import FakeAuditLog
from tests.fakes.billing_store import FakeBillingStore
from tests.fakes.conversations import (
    FakeConversationRepository,
    FakeEventCallbackStore,
    FakeEventStore,
)
from tests.fakes.experiment_assignments import FakeExperimentAssignments
from tests.fakes.git_identities import FakeGitIdentityStore
from tests.fakes.invitation_repository import FakeInvitationRepository
from tests.fakes.job_queue import FakeJobQueue, RowLocks
from tests.fakes.ledger import FakeLedger
from tests.fakes.org_repository import FakeOrgRepository
from tests.fakes.provider_token_store import FakeProviderTokenStore
from tests.fakes.repository_hooks import FakeRepositoryHookStore
from tests.fakes.resolver_settings import FakeResolverSettingsStore
from tests.fakes.resolver_threads import FakeResolverThreadStore
from tests.fakes.runtime_directory import FakeRuntimeDirectory
from tests.fakes.secret_store import FakeSecretStore
from tests.fakes.session_repository import FakeSessionRepository
from tests.fakes.settings_store import FakeSettingsStore
from tests.fakes.store import FakeStore
from tests.fakes.usage_records import FakeUsageRecords
from tests.fakes.user_repository import FakeUserRepository
from tests.fakes.webhook_inbox import FakeWebhookInbox

__all__ = ("FakeUnitOfWork", "FakeUnitsOfWork")


class FakeUnitOfWork(UnitOfWork):
    """Every fake repository over one transaction of a ``FakeStore``: what it writes is
    invisible to other units of work until it commits, and its rollback drops only its own."""

    def __init__(self, store: FakeStore, cipher: Cipher | None = None) -> None:
        self._store = store = store.transaction()
        self._after_commit: list[Callable[[], None]] = []
        self.users = FakeUserRepository(store)
        self.orgs = FakeOrgRepository(store)
        self.invitations = FakeInvitationRepository(store)
        self.api_keys = FakeApiKeyRepository(store)
        self.sessions = FakeSessionRepository(store, cipher)
        self.audit = FakeAuditLog(store)
        self.settings = FakeSettingsStore(store)
        self.secrets = FakeSecretStore(store)
        self.provider_tokens = FakeProviderTokenStore(store)
        self.conversations = FakeConversationRepository(store)
        self.events = FakeEventStore(store)
        self.callbacks = FakeEventCallbackStore(store)
        self.runtime_hosts = FakeRuntimeDirectory(store)
        self._locks = RowLocks(store)
        self.experiments = FakeExperimentAssignments(store, self._locks)
        self.jobs = FakeJobQueue(store, self._locks)
        self.webhooks = FakeWebhookInbox(store, self._locks)
        self.ledger = FakeLedger(store, self._locks)
        self.usage = FakeUsageRecords(store, self._locks)
        self.billing = FakeBillingStore(store, self._locks)
        self.app_installations = FakeAppInstallationStore(store, self._locks)
        self.resolver_threads = FakeResolverThreadStore(store, self._locks)
        self.git_identities = FakeGitIdentityStore(store)
        self.repository_hooks = FakeRepositoryHookStore(store, self._locks)
        self.resolver_settings = FakeResolverSettingsStore(store)

    async def commit(self) -> None:
        """A commit that fails ends the transaction too, as a refused ``COMMIT`` does."""
        actions, self._after_commit = self._after_commit, []
        try:
            self._store.commit()
        finally:
            self.conversations.end_transaction()
            self._locks.release()
        for action in actions:
            action()

    async def rollback(self) -> None:
        self._after_commit.clear()
        self._store.rollback()
        self.conversations.end_transaction()
        self._locks.release()

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after_commit.append(action)


class FakeUnitsOfWork(UnitsOfWork):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._begin()

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[UnitOfWork]:
        uow = FakeUnitOfWork(self._store)
        try:
            yield uow
        finally:
            await uow.rollback()
