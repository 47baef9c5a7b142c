"""dishka providers, one per adapter family, chosen by the binding in ``Settings``."""

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import NewType

import httpx
from dishka import Provider, Scope, alias, provide
from litestar import Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.crypto import (
    SIGNING_KEY_FILE,
    AesGcmCipher,
    JwsTokenSigner,
    load_or_create_key_file,
)
from adapters.git_providers import (
    CloudUrls,
    HttpxGitProviders,
    HttpxProviderOAuth,
    OAuthApp,
    create_http_client,
)
from adapters.keycloak import KeycloakIdentityAdmin, KeycloakSettings
from adapters.memory import (
    InProcessAccessRevocations,
    InProcessEventFanOut,
    InProcessIngestLeases,
    InProcessLocks,
)
from adapters.oidc import OidcIdentityProvider, OidcSettings
from adapters.redis import (
    RedisAccessRevocations,
    RedisEventFanOut,
    RedisIngestLeases,
    RedisLocks,
    RedisLoginAttemptStore,
    RedisProbe,
    create_redis_client,
)
from adapters.sqlalchemy import (
    SchemaRevisions,
    SqlaApiKeyRepository,
    SqlaAuditLog,
    SqlaDatabaseProbe,
    SqlaInvitationRepository,
    SqlaOrgRepository,
    SqlaProviderTokenStore,
    SqlaSealedRecords,
    SqlaSecretStore,
    SqlaSessionRepository,
    SqlaSettingsStore,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from adapters.system import SystemClock
from application.api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from application.git import (
    ConnectGitProvider,
    DisconnectGitProvider,
    GetGitAccount,
    GetProviderToken,
    ListGitConnections,
    ProviderTokenPolicy,
)
from application.git.browse_repositories import (
    ListBranches,
    ListInstallations,
    ListRepositories,
    SearchBranches,
    SearchRepositories,
)
from application.git.connect_git_provider import SelfHostedGitPolicy
from application.git.runtime_credentials import (
    ExchangeRuntimeGitCredential,
    IssueRuntimeGitCredential,
    RuntimeCredentialTtl,
)
from application.health.check_readiness import CheckReadiness
from application.identity.accept_terms import AcceptTerms
from application.identity.access_gates import AccessPolicy
from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.authenticator import Authenticator
from application.identity.brokered_tokens import (
    BrokeredHosts,
    BrokeredTokenCapture,
    IgnoreBrokeredTokens,
    KeepBrokeredTokens,
)
from application.identity.change_email import ChangeEmail, ResendVerificationEmail
from application.identity.complete_sign_in import CompleteSignIn
from application.identity.get_current_user import GetCurrentUser
from application.identity.local_user_authenticator import (
    LocalAccessPolicy,
    LocalUserAuthenticator,
    LocalUserCache,
)
from application.identity.provision_local_user import ProvisionLocalUser
from application.identity.rotate_encryption_keys import RotateEncryptionKeys
from application.identity.session_authenticator import SessionAuthenticator
from application.identity.sign_in_policy import SignInPolicy
from application.identity.signed_in_authenticator import SignedInAuthenticator
from application.identity.start_sign_in import StartSignIn
from application.members import (
    AcceptInvitations,
    AddMember,
    ChangeMemberRole,
    InviteMember,
    ListAuditEvents,
    ListInvitations,
    ListMembers,
    RemoveMember,
    RevokeInvitation,
    TransferOwnership,
)
from application.organizations.create_organization import CreateOrganization
from application.organizations.get_organization import GetOrganization
from application.organizations.list_my_organizations import ListMyOrganizations
from application.organizations.resolve_active_org import ResolveActiveOrg, ResolveActiveOrgRequest
from application.ports.access_revocations import AccessRevocations
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.audit_log import AuditLog
from application.ports.cipher import Cipher
from application.ports.clock import Clock
from application.ports.dependency_probe import DependencyProbe
from application.ports.event_fan_out import EventFanOut
from application.ports.git_provider import GitProviders, ProviderOAuth
from application.ports.identity_admin import IdentityAdmin
from application.ports.identity_provider import IdentityProvider
from application.ports.ingest_leases import IngestLeases
from application.ports.invitation_repository import InvitationRepository
from application.ports.locks import Locks
from application.ports.login_attempts import LoginAttemptStore
from application.ports.org_repository import MemberOrganization, OrgRepository
from application.ports.provider_token_store import ProviderTokenStore
from application.ports.sealed_records import SealedRecords
from application.ports.secret_store import SecretStore
from application.ports.session_repository import SessionRepository
from application.ports.settings_store import SettingsStore
from application.ports.token_signer import TokenSigner
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserRepository
from application.secrets import (
    CreateSecret,
    DeleteSecret,
    ListSecrets,
    SecretOpener,
    UpdateSecret,
)
from application.sessions import GetCurrentSession, ListSessions, RevokeSession, SignOut
from application.settings import (
    GetOrgSettings,
    GetSettings,
    LlmConfigResolver,
    UpdateOrgSettings,
    UpdateSettings,
)
from domain.git.providers import GitHost, ProviderKind
from domain.identity.principals import Principal
from entrypoints.http.auth import current_principal, parse_org_header
from entrypoints.http.client_address import TrustedProxies
from entrypoints.ioc.conversations import ConversationsProvider
from entrypoints.ioc.runtime import RuntimeProbes, RuntimeProvider
from entrypoints.settings import Binding, Settings, is_loopback_http, parse_encryption_keys

__all__ = (
    "ApplicationProvider",
    "ClusteredAuthProvider",
    "CryptoProvider",
    "EmbeddedProvider",
    "GitProvidersProvider",
    "KeycloakProvider",
    "OidcProvider",
    "PlainOidcProvider",
    "RedisProvider",
    "RequestContextProvider",
    "SqlaProvider",
    "SystemProvider",
    "get_providers",
)


class SqlaProvider(Provider):
    """SQLAlchemy: SQLite (embedded) or PostgreSQL (clustered); one session per request."""

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = create_database_engine(
            settings.effective_database_url,
            pool_size=settings.db_pool_size,
            connect_timeout_s=settings.dependency_timeout_s,
        )
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def sessionmaker(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @provide(scope=Scope.REQUEST)
    async def session(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[AsyncSession]:
        session = sessionmaker()
        try:
            yield session
        finally:
            if session.in_transaction() or session.sync_session.identity_map:
                await session.close()  # a session that never ran a query holds nothing

    users = provide(SqlaUserRepository, provides=UserRepository, scope=Scope.REQUEST)
    orgs = provide(SqlaOrgRepository, provides=OrgRepository, scope=Scope.REQUEST)
    invitations = provide(
        SqlaInvitationRepository, provides=InvitationRepository, scope=Scope.REQUEST
    )
    audit = provide(SqlaAuditLog, provides=AuditLog, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def uow(self, session: AsyncSession, cipher: Cipher) -> UnitOfWork:
        return SqlaUnitOfWork(session, cipher)

    api_keys = provide(SqlaApiKeyRepository, provides=ApiKeyRepository, scope=Scope.REQUEST)
    settings_store = provide(SqlaSettingsStore, provides=SettingsStore, scope=Scope.REQUEST)
    secret_store = provide(SqlaSecretStore, provides=SecretStore, scope=Scope.REQUEST)
    provider_tokens = provide(
        SqlaProviderTokenStore, provides=ProviderTokenStore, scope=Scope.REQUEST
    )

    @provide(scope=Scope.APP)
    def database_probe(self, engine: AsyncEngine) -> SqlaDatabaseProbe:
        return SqlaDatabaseProbe(engine, schema=SchemaRevisions())


class RedisProvider(Provider):
    """Redis: coordination, cache and pub/sub of the clustered binding."""

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[Redis]:
        assert settings.redis_url is not None
        client = create_redis_client(
            settings.redis_url,
            timeout_s=settings.dependency_timeout_s,
            max_connections=settings.redis_max_connections,
        )
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    def probe(self, client: Redis) -> RedisProbe:
        return RedisProbe(client)

    @provide(scope=Scope.APP)
    def locks(self, client: Redis) -> Locks:
        return RedisLocks(client)

    @provide(scope=Scope.APP)
    async def leases(self, client: Redis, settings: Settings) -> AsyncIterator[IngestLeases]:
        leases = RedisIngestLeases(
            client, lease_ttl=timedelta(seconds=settings.conversation_lease_ttl_s)
        )
        yield leases
        await leases.aclose()

    @provide(scope=Scope.APP)
    async def fan_out(self, client: Redis) -> AsyncIterator[EventFanOut]:
        fan_out = RedisEventFanOut(client)
        yield fan_out
        await fan_out.aclose()

    @provide(scope=Scope.APP)
    async def revocations(self, client: Redis) -> AsyncIterator[AccessRevocations]:
        revocations = RedisAccessRevocations(client)
        yield revocations
        await revocations.aclose()

    @provide(scope=Scope.APP)
    def probes(
        self, database: SqlaDatabaseProbe, redis: RedisProbe, runtime: RuntimeProbes
    ) -> Sequence[DependencyProbe]:
        return (database, redis, *runtime)


class EmbeddedProvider(Provider):
    """Embedded binding: in-process coordination and the single local user."""

    @provide(scope=Scope.APP)
    def local_access(self, settings: Settings) -> LocalAccessPolicy:
        return LocalAccessPolicy(require_api_key=settings.require_api_key)

    @provide(scope=Scope.APP)
    def local_user_cache(self) -> LocalUserCache:
        return LocalUserCache()

    @provide(scope=Scope.APP)
    def probes(
        self, database: SqlaDatabaseProbe, runtime: RuntimeProbes
    ) -> Sequence[DependencyProbe]:
        return (database, *runtime)

    authenticator = provide(LocalUserAuthenticator, provides=Authenticator, scope=Scope.REQUEST)
    locks = provide(InProcessLocks, provides=Locks, scope=Scope.APP)
    leases = provide(InProcessIngestLeases, provides=IngestLeases, scope=Scope.APP)
    fan_out = provide(InProcessEventFanOut, provides=EventFanOut, scope=Scope.APP)
    revocations = provide(InProcessAccessRevocations, provides=AccessRevocations, scope=Scope.APP)


class ClusteredAuthProvider(Provider):
    """Clustered binding without sign-in configured: API keys are the only credential."""

    authenticator = alias(source=ApiKeyAuthenticator, provides=Authenticator)


class OidcProvider(Provider):
    """Sign-in through an OpenID Connect issuer (Keycloak), with sessions in the database,
    sign-in attempts and refresh locks in Redis, and provider tokens sealed by AES-GCM."""

    @provide(scope=Scope.APP)
    async def transport(self) -> AsyncIterator[httpx.AsyncBaseTransport]:
        transport = httpx.AsyncHTTPTransport(retries=1)
        yield transport
        await transport.aclose()

    @provide(scope=Scope.APP)
    def identity_provider(
        self, settings: Settings, transport: httpx.AsyncBaseTransport
    ) -> IdentityProvider:
        assert settings.oidc_issuer is not None
        assert settings.oidc_client_id is not None
        assert settings.oidc_client_secret is not None
        return OidcIdentityProvider(
            OidcSettings(
                issuer=settings.oidc_issuer,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret,
                scopes=settings.oidc_scopes,
                timeout_s=max(settings.dependency_timeout_s, 5.0),
            ),
            transport,
        )

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> SignInPolicy:
        public = settings.effective_public_url
        return SignInPolicy(
            redirect_uri=f"{public}/api/auth/callback",
            post_logout_redirect_uri=f"{public}/",
            session_max_age=timedelta(seconds=settings.session_max_age_s),
            refresh_margin=timedelta(seconds=settings.token_refresh_margin_s),
            secure_cookies=not is_loopback_http(public),
            starts_per_client=settings.sign_in_starts_per_client,
        )

    @provide(scope=Scope.APP)
    def trusted_proxies(self, settings: Settings) -> TrustedProxies:
        return TrustedProxies.parse(settings.trusted_proxies)

    @provide(scope=Scope.APP)
    def attempts(self, client: Redis) -> LoginAttemptStore:
        return RedisLoginAttemptStore(client)

    sessions = provide(SqlaSessionRepository, provides=SessionRepository, scope=Scope.REQUEST)
    session_authenticator = provide(SessionAuthenticator, scope=Scope.REQUEST)
    authenticator = provide(SignedInAuthenticator, provides=Authenticator, scope=Scope.REQUEST)
    start_sign_in = provide(StartSignIn, scope=Scope.REQUEST)
    complete_sign_in = provide(CompleteSignIn, scope=Scope.REQUEST)
    sign_out = provide(SignOut, scope=Scope.REQUEST)
    list_sessions = provide(ListSessions, scope=Scope.REQUEST)
    current_session = provide(GetCurrentSession, scope=Scope.REQUEST)
    revoke_session = provide(RevokeSession, scope=Scope.REQUEST)


class RequestContextProvider(Provider):
    """Who is calling and in which organization, for the use cases of one request."""

    scope = Scope.REQUEST

    @provide
    def principal(
        self,
        request: Request,  # type: ignore[type-arg]  # dishka keys it by the bare class
    ) -> Principal:
        return current_principal(request)

    @provide
    async def active_org(
        self,
        request: Request,  # type: ignore[type-arg]  # dishka keys it by the bare class
        actor: Principal,
        resolve: ResolveActiveOrg,
    ) -> MemberOrganization:
        return await resolve.execute(
            ResolveActiveOrgRequest(actor=actor, requested=parse_org_header(request))
        )


class SystemProvider(Provider):
    clock = provide(SystemClock, provides=Clock, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def access_policy(self, settings: Settings) -> AccessPolicy:
        return AccessPolicy(
            terms_version=settings.terms_version,
            terms_url=settings.terms_url,
            verification_resend=settings.keycloak_enabled,
        )


class ApplicationProvider(Provider):
    """Use cases, one per request."""

    scope = Scope.REQUEST

    api_key_authenticator = provide(ApiKeyAuthenticator)
    resolve_active_org = provide(ResolveActiveOrg)
    create_api_key = provide(CreateApiKey)
    list_api_keys = provide(ListApiKeys)
    revoke_api_key = provide(RevokeApiKey)
    list_members = provide(ListMembers)
    add_member = provide(AddMember)
    change_member_role = provide(ChangeMemberRole)
    remove_member = provide(RemoveMember)
    transfer_ownership = provide(TransferOwnership)
    list_audit_events = provide(ListAuditEvents)
    invite_member = provide(InviteMember)
    list_invitations = provide(ListInvitations)
    revoke_invitation = provide(RevokeInvitation)
    accept_invitations = provide(AcceptInvitations)
    provision_local_user = provide(ProvisionLocalUser)
    accept_terms = provide(AcceptTerms)
    get_current_user = provide(GetCurrentUser)
    create_organization = provide(CreateOrganization)
    list_my_organizations = provide(ListMyOrganizations)
    get_organization = provide(GetOrganization)
    get_settings = provide(GetSettings)
    update_settings = provide(UpdateSettings)
    get_org_settings = provide(GetOrgSettings)
    update_org_settings = provide(UpdateOrgSettings)
    llm_config_resolver = provide(LlmConfigResolver)
    list_secrets = provide(ListSecrets)
    create_secret = provide(CreateSecret)
    update_secret = provide(UpdateSecret)
    delete_secret = provide(DeleteSecret)
    secret_opener = provide(SecretOpener)
    get_provider_token = provide(GetProviderToken)
    connect_git_provider = provide(ConnectGitProvider)
    list_git_connections = provide(ListGitConnections)
    disconnect_git_provider = provide(DisconnectGitProvider)
    get_git_account = provide(GetGitAccount)
    list_repositories = provide(ListRepositories)
    search_repositories = provide(SearchRepositories)
    list_branches = provide(ListBranches)
    search_branches = provide(SearchBranches)
    list_installations = provide(ListInstallations)
    exchange_runtime_credential = provide(ExchangeRuntimeGitCredential)

    @provide(scope=Scope.APP)
    def self_hosted_git_policy(self, settings: Settings) -> SelfHostedGitPolicy:
        listed = settings.git_self_hosted_urls
        if listed == ("*",) or (listed is None and settings.binding is Binding.EMBEDDED):
            return SelfHostedGitPolicy(None)
        return SelfHostedGitPolicy(frozenset(listed or ()))

    @provide(scope=Scope.APP)
    def provider_token_policy(self, settings: Settings) -> ProviderTokenPolicy:
        return ProviderTokenPolicy(
            refresh_margin=timedelta(seconds=settings.git_token_refresh_margin_s)
        )

    @provide
    def check_readiness(
        self, probes: Sequence[DependencyProbe], settings: Settings
    ) -> CheckReadiness:
        return CheckReadiness(probes, timeout_s=settings.dependency_timeout_s)


GitHttpClient = NewType("GitHttpClient", httpx.AsyncClient)
"""The one HTTP client every git provider adapter shares."""


def git_cloud_urls(settings: Settings) -> CloudUrls:
    return CloudUrls(
        github=settings.github_url, gitlab=settings.gitlab_url, bitbucket=settings.bitbucket_url
    )


def git_oauth_apps(settings: Settings) -> dict[GitHost, OAuthApp]:
    """Each provider's OAuth app serves its public cloud and the hosts Keycloak brokers it for
    (a GitHub Enterprise behind the ``github`` alias, say)."""
    apps = {
        kind: OAuthApp(client_id, secret)
        for kind, client_id, secret in (
            (ProviderKind.GITHUB, settings.github_client_id, settings.github_client_secret),
            (ProviderKind.GITLAB, settings.gitlab_client_id, settings.gitlab_client_secret),
            (
                ProviderKind.BITBUCKET,
                settings.bitbucket_client_id,
                settings.bitbucket_client_secret,
            ),
        )
        if client_id is not None and secret is not None
    }
    brokered = [host for _, host in settings.brokered_git_hosts or ()]
    return {
        host: apps[host.kind]
        for host in [*(GitHost(kind) for kind in ProviderKind), *brokered]
        if host.kind in apps
    }


class GitProvidersProvider(Provider):
    """GitHub, GitLab and Bitbucket over one shared HTTP client, at the clouds the settings
    name, refreshing tokens with the OAuth apps the settings hold."""

    @provide(scope=Scope.APP)
    async def http_client(self) -> AsyncIterator[GitHttpClient]:
        client = create_http_client()
        yield GitHttpClient(client)
        await client.aclose()

    @provide(scope=Scope.APP)
    def providers(self, client: GitHttpClient, settings: Settings) -> GitProviders:
        return HttpxGitProviders(client, git_cloud_urls(settings))

    @provide(scope=Scope.APP)
    def oauth(self, client: GitHttpClient, settings: Settings, clock: Clock) -> ProviderOAuth:
        return HttpxProviderOAuth(client, git_cloud_urls(settings), git_oauth_apps(settings), clock)


class CryptoProvider(Provider):
    """AES-256-GCM with the keys of ``MAESTRIST_ENCRYPTION_KEYS`` and their rotation; signed
    short-lived credentials with the keys of ``MAESTRIST_SIGNING_KEYS``."""

    @provide(scope=Scope.APP)
    def cipher(self, settings: Settings) -> Cipher:
        if settings.encryption_keys is None and settings.binding is Binding.EMBEDDED:
            spec = load_or_create_key_file(settings.data_dir)
            return AesGcmCipher(parse_encryption_keys(spec))
        return AesGcmCipher(settings.encryption_key_map)

    @provide(scope=Scope.APP)
    def signer(self, settings: Settings) -> TokenSigner:
        if settings.signing_keys is None and settings.binding is Binding.EMBEDDED:
            spec = load_or_create_key_file(settings.data_dir, SIGNING_KEY_FILE)
            return JwsTokenSigner(parse_encryption_keys(spec))
        return JwsTokenSigner(settings.signing_key_map)

    @provide(scope=Scope.APP)
    def runtime_credential_ttl(self, settings: Settings) -> RuntimeCredentialTtl:
        return RuntimeCredentialTtl(timedelta(seconds=settings.runtime_credential_ttl_s))

    issue_runtime_credential = provide(IssueRuntimeGitCredential, scope=Scope.APP)

    sealed = provide(SqlaSealedRecords, provides=SealedRecords, scope=Scope.REQUEST)
    rotate = provide(RotateEncryptionKeys, scope=Scope.REQUEST)


class KeycloakProvider(Provider):
    """Keycloak's extras: account administration and brokered upstream tokens."""

    @provide(scope=Scope.APP)
    def admin(self, settings: Settings, transport: httpx.AsyncBaseTransport) -> IdentityAdmin:
        assert settings.keycloak_url is not None
        assert settings.keycloak_realm is not None
        assert settings.oidc_client_id is not None
        assert settings.oidc_client_secret is not None
        return KeycloakIdentityAdmin(
            KeycloakSettings(
                base_url=settings.keycloak_url,
                realm=settings.keycloak_realm,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret,
                verify_redirect_uri=f"{settings.effective_public_url}/",
                timeout_s=max(settings.dependency_timeout_s, 5.0),
            ),
            transport,
        )

    brokered = provide(KeepBrokeredTokens, provides=BrokeredTokenCapture, scope=Scope.REQUEST)

    @provide(scope=Scope.APP)
    def brokered_hosts(self, settings: Settings) -> BrokeredHosts:
        if settings.brokered_git_hosts is None:
            return BrokeredHosts()
        return BrokeredHosts(dict(settings.brokered_git_hosts))

    change_email = provide(ChangeEmail, scope=Scope.REQUEST)
    resend_verification = provide(ResendVerificationEmail, scope=Scope.REQUEST)


class PlainOidcProvider(Provider):
    """A standard OpenID Connect issuer: nothing brokered to keep."""

    brokered = provide(IgnoreBrokeredTokens, provides=BrokeredTokenCapture, scope=Scope.APP)


def get_providers(settings: Settings) -> list[Provider]:
    """The providers of the binding ``settings`` selects."""
    common: list[Provider] = [
        SystemProvider(),
        SqlaProvider(),
        GitProvidersProvider(),
        ApplicationProvider(),
        RequestContextProvider(),
    ]
    common.append(CryptoProvider())
    common.append(RuntimeProvider())
    common.append(ConversationsProvider())
    if settings.binding is Binding.CLUSTERED:
        if not settings.sign_in_enabled:
            return [*common, RedisProvider(), ClusteredAuthProvider()]
        extras = KeycloakProvider() if settings.keycloak_enabled else PlainOidcProvider()
        return [*common, RedisProvider(), OidcProvider(), extras]
    return [*common, EmbeddedProvider()]
