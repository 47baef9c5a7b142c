from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.api_key_repository import SqlaApiKeyRepository
from adapters.sqlalchemy.app_installations import SqlaAppInstallationStore
from adapters.sqlalchemy.audit_log import SqlaAuditLog
from adapters.sqlalchemy.billing_store import SqlaBillingStore
from adapters.sqlalchemy.conversation_repository import SqlaConversationRepository
from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.event_callback_store import SqlaEventCallbackStore
from adapters.sqlalchemy.event_store import SqlaEventStore
from adapters.sqlalchemy.experiment_assignments import SqlaExperimentAssignments
from adapters.sqlalchemy.git_identities import SqlaGitIdentityStore
from adapters.sqlalchemy.invitation_repository import SqlaInvitationRepository
from adapters.sqlalchemy.job_queue import SqlaJobQueue
from adapters.sqlalchemy.ledger import SqlaLedger
from adapters.sqlalchemy.org_repository import SqlaOrgRepository
from adapters.sqlalchemy.provider_token_store import SqlaProviderTokenStore
from adapters.sqlalchemy.repository_hooks import SqlaRepositoryHookStore
from adapters.sqlalchemy.resolver_settings import SqlaResolverSettingsStore
from adapters.sqlalchemy.resolver_threads import SqlaResolverThreadStore
from adapters.sqlalchemy.runtime_directory import SqlaRuntimeDirectory
from adapters.sqlalchemy.secret_store import SqlaSecretStore
from adapters.sqlalchemy.session_repository import SqlaSessionRepository
from adapters.sqlalchemy.settings_store import SqlaSettingsStore
from adapters.sqlalchemy.usage_records import SqlaUsageRecords
from adapters.sqlalchemy.user_repository import SqlaUserRepository
from adapters.sqlalchemy.webhook_inbox import SqlaWebhookInbox
from application.ports.cipher import Cipher
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork

__all__ = ("SqlaUnitOfWork", "SqlaUnitsOfWork")


class SqlaUnitOfWork(UnitOfWork):
    """Every repository over one ``AsyncSession``; the sealed ones seal with ``cipher``."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._after_commit: list[Callable[[], None]] = []
        self.users = SqlaUserRepository(session)
        self.orgs = SqlaOrgRepository(session)
        self.invitations = SqlaInvitationRepository(session)
        self.api_keys = SqlaApiKeyRepository(session)
        self.sessions = SqlaSessionRepository(session, cipher)
        self.audit = SqlaAuditLog(session)
        self.settings = SqlaSettingsStore(session, cipher)
        self.secrets = SqlaSecretStore(session, cipher)
        self.provider_tokens = SqlaProviderTokenStore(session, cipher)
        self.conversations = SqlaConversationRepository(session)
        self.events = SqlaEventStore(session)
        self.callbacks = SqlaEventCallbackStore(session)
        self.experiments = SqlaExperimentAssignments(session)
        self.runtime_hosts = SqlaRuntimeDirectory(session, cipher)
        self.jobs = SqlaJobQueue(session)
        self.webhooks = SqlaWebhookInbox(session)
        self.ledger = SqlaLedger(session)
        self.usage = SqlaUsageRecords(session)
        self.billing = SqlaBillingStore(session)
        self.app_installations = SqlaAppInstallationStore(session, cipher)
        self.repository_hooks = SqlaRepositoryHookStore(session, cipher)
        self.resolver_settings = SqlaResolverSettingsStore(session)
        self.resolver_threads = SqlaResolverThreadStore(session)
        self.git_identities = SqlaGitIdentityStore(session)

    async def commit(self) -> None:
        actions, self._after_commit = self._after_commit, []
        async with translate_db_errors():
            await self._session.commit()
        for action in actions:
            action()

    async def rollback(self) -> None:
        self._after_commit.clear()
        async with translate_db_errors():
            await self._session.rollback()

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after_commit.append(action)


class SqlaUnitsOfWork(UnitsOfWork):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: Cipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._begin()

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[UnitOfWork]:
        async with self._sessions() as session:
            yield SqlaUnitOfWork(session, self._cipher)
