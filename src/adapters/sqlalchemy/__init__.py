from adapters.sqlalchemy.api_key_repository import SqlaApiKeyRepository
from adapters.sqlalchemy.audit_log import SqlaAuditLog
from adapters.sqlalchemy.conversation_repository import SqlaConversationRepository
from adapters.sqlalchemy.engine import create_database_engine, dispose_engine
from adapters.sqlalchemy.event_callback_store import SqlaEventCallbackStore
from adapters.sqlalchemy.event_store import SqlaEventStore
from adapters.sqlalchemy.invitation_repository import SqlaInvitationRepository
from adapters.sqlalchemy.migrator import SchemaRevisions, current_revisions, upgrade_to_head
from adapters.sqlalchemy.org_repository import SqlaOrgRepository
from adapters.sqlalchemy.probe import SqlaDatabaseProbe
from adapters.sqlalchemy.provider_token_store import SqlaProviderTokenStore
from adapters.sqlalchemy.sealed_records import SqlaSealedRecords
from adapters.sqlalchemy.secret_store import SqlaSecretStore
from adapters.sqlalchemy.session_repository import SqlaSessionRepository
from adapters.sqlalchemy.settings_store import SqlaSettingsStore
from adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork, SqlaUnitsOfWork
from adapters.sqlalchemy.user_repository import SqlaUserRepository

__all__ = (
    "SchemaRevisions",
    "SqlaApiKeyRepository",
    "SqlaAuditLog",
    "SqlaConversationRepository",
    "SqlaDatabaseProbe",
    "SqlaEventCallbackStore",
    "SqlaEventStore",
    "SqlaInvitationRepository",
    "SqlaOrgRepository",
    "SqlaProviderTokenStore",
    "SqlaSealedRecords",
    "SqlaSecretStore",
    "SqlaSessionRepository",
    "SqlaSettingsStore",
    "SqlaUnitOfWork",
    "SqlaUnitsOfWork",
    "SqlaUserRepository",
    "create_database_engine",
    "current_revisions",
    "dispose_engine",
    "upgrade_to_head",
)
