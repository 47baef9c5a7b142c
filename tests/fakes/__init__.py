"""Typed in-memory fakes, one per port; the contract suites hold them to the real adapters."""

from tests.fakes.access_revocations import FakeAccessRevocations
from tests.fakes.api_key_repository import FakeApiKeyRepository
from tests.fakes.audit_log import FakeAuditLog
from tests.fakes.authenticator import BearerSubjectAuthenticator
from tests.fakes.cipher import FakeCipher
from tests.fakes.clock import FakeClock
from tests.fakes.dependency_probe import FakeProbe
from tests.fakes.identity_provider import FakeIdentityProvider
from tests.fakes.invitation_repository import FakeInvitationRepository
from tests.fakes.locks import FakeLocks
from tests.fakes.login_attempts import FakeLoginAttemptStore
from tests.fakes.org_repository import FakeOrgRepository
from tests.fakes.provider_oauth import FakeProviderOAuth
from tests.fakes.provider_token_store import FakeProviderTokenStore
from tests.fakes.rate_limiter import FakeRateLimiter
from tests.fakes.secret_store import FakeSecretStore
from tests.fakes.session_repository import FakeSessionRepository
from tests.fakes.settings_store import FakeSettingsStore
from tests.fakes.store import FakeStore
from tests.fakes.token_signer import FakeTokenSigner
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork
from tests.fakes.user_repository import FakeUserRepository

__all__ = (
    "BearerSubjectAuthenticator",
    "FakeAccessRevocations",
    "FakeApiKeyRepository",
    "FakeAuditLog",
    "FakeCipher",
    "FakeClock",
    "FakeIdentityProvider",
    "FakeInvitationRepository",
    "FakeLocks",
    "FakeLoginAttemptStore",
    "FakeOrgRepository",
    "FakeProbe",
    "FakeProviderOAuth",
    "FakeProviderTokenStore",
    "FakeRateLimiter",
    "FakeSecretStore",
    "FakeSessionRepository",
    "FakeSettingsStore",
    "FakeStore",
    "FakeTokenSigner",
    "FakeUnitOfWork",
    "FakeUnitsOfWork",
    "FakeUserRepository",
)
