"""The use cases, and the application services they share."""

from collections.abc import Sequence

from dishka import Has, Provider, Scope, provide

from application.api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from application.api_keys.issue_api_key import IssueApiKey
from application.conversations import (
    ConcurrencyGate,
    ConversationAccessCheck,
    DeleteConversation,
    GetConversation,
    ListEvents,
    MessageDelivery,
    OpenConversationStream,
    PauseConversation,
    RenameConversation,
    RespondToConfirmation,
    ResumeConversation,
    SearchConversations,
    SendMessage,
    StartConversation,
    StopConversation,
)
from application.conversations.git_access import RuntimeGitAccess
from application.git import (
    ConnectGitProvider,
    DisconnectGitProvider,
    ExchangeRuntimeGitCredential,
    GetGitAccount,
    ListBranches,
    ListGitConnections,
    ListInstallations,
    ListRepositories,
    ProviderTokens,
    RuntimeGitCredentials,
    SearchBranches,
    SearchRepositories,
)
from application.health.check_readiness import CheckReadiness
from application.identity.accept_terms import AcceptTerms
from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.change_email import ChangeEmail
from application.identity.complete_sign_in import CompleteSignIn
from application.identity.confirm_email import ConfirmEmail, SendEmailConfirmation
from application.identity.create_user import CreateUser
from application.identity.get_current_user import GetCurrentUser
from application.identity.provision_local_user import ProvisionLocalUser
from application.identity.resend_verification_email import ResendVerificationEmail
from application.identity.rotate_encryption_keys import RotateEncryptionKeys
from application.identity.start_sign_in import StartSignIn
from application.members import (
    AddMember,
    ChangeMemberRole,
    InviteMember,
    ListAuditEvents,
    ListInvitations,
    ListMembers,
    PendingInvitations,
    RemoveMember,
    RevokeInvitation,
    TransferOwnership,
)
from application.metrics import ExposeMetrics, MetricsAccess
from application.organizations import (
    ActiveOrgResolver,
    CreateOrganization,
    GetOrganization,
    ListMyOrganizations,
)
from application.ports.dependency_probe import DependencyProbe
from application.ports.identity_admin import IdentityAdmin
from application.ports.identity_provider import IdentityProvider
from application.secrets import (
    CreateSecret,
    DeleteSecret,
    ListSecrets,
    SecretOpener,
    UpdateSecret,
)
from application.sessions import (
    GetCurrentSession,
    ListSessions,
    RevokeSession,
    SessionEndings,
    SignOut,
)
from application.settings import (
    GetOrgSettings,
    GetSettings,
    LlmConfigResolver,
    UpdateOrgSettings,
    UpdateSettings,
)
from entrypoints.settings import Settings

__all__ = ("ApplicationProvider",)

_SIGN_IN = Has(IdentityProvider)
"""Sign-in use cases exist where an issuer is configured."""
_KEYCLOAK = Has(IdentityAdmin)
"""Account administration exists where Keycloak is configured."""
_METRICS = Has(MetricsAccess)
"""The metrics endpoint exists where its token is set."""


class ApplicationProvider(Provider):
    """Use cases, one per request; the adapters they need come from the family providers."""

    scope = Scope.REQUEST

    api_key_authenticator = provide(ApiKeyAuthenticator)
    active_org_resolver = provide(ActiveOrgResolver)
    create_api_key = provide(CreateApiKey)
    issue_api_key = provide(IssueApiKey)
    create_user = provide(CreateUser)
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
    pending_invitations = provide(PendingInvitations)
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
    rotate_encryption_keys = provide(RotateEncryptionKeys)
    fresh_provider_tokens = provide(ProviderTokens)
    connect_git_provider = provide(ConnectGitProvider)
    list_git_connections = provide(ListGitConnections)
    disconnect_git_provider = provide(DisconnectGitProvider)
    get_git_account = provide(GetGitAccount)
    list_repositories = provide(ListRepositories)
    search_repositories = provide(SearchRepositories)
    list_branches = provide(ListBranches)
    search_branches = provide(SearchBranches)
    list_installations = provide(ListInstallations)
    runtime_git_credentials = provide(RuntimeGitCredentials, scope=Scope.APP)
    exchange_runtime_credential = provide(ExchangeRuntimeGitCredential)

    gate = provide(ConcurrencyGate)
    git_access = provide(RuntimeGitAccess, scope=Scope.APP)
    start_conversation = provide(StartConversation)
    search_conversations = provide(SearchConversations)
    get_conversation = provide(GetConversation)
    rename_conversation = provide(RenameConversation)
    delete_conversation = provide(DeleteConversation)
    send_message = provide(SendMessage)
    pause_conversation = provide(PauseConversation)
    resume_conversation = provide(ResumeConversation)
    stop_conversation = provide(StopConversation)
    respond_to_confirmation = provide(RespondToConfirmation)
    list_events = provide(ListEvents)
    conversation_access_check = provide(ConversationAccessCheck)
    message_delivery = provide(MessageDelivery)
    open_conversation_stream = provide(OpenConversationStream, scope=Scope.SESSION)

    start_sign_in = provide(StartSignIn, when=_SIGN_IN)
    complete_sign_in = provide(CompleteSignIn, when=_SIGN_IN)
    session_endings = provide(SessionEndings, when=_SIGN_IN)
    sign_out = provide(SignOut, when=_SIGN_IN)
    list_sessions = provide(ListSessions, when=_SIGN_IN)
    current_session = provide(GetCurrentSession, when=_SIGN_IN)
    revoke_session = provide(RevokeSession, when=_SIGN_IN)
    change_email = provide(ChangeEmail, when=_KEYCLOAK)
    resend_verification = provide(ResendVerificationEmail, when=_KEYCLOAK)
    send_email_confirmation = provide(SendEmailConfirmation, when=_SIGN_IN)
    confirm_email = provide(ConfirmEmail, when=_SIGN_IN)
    expose_metrics = provide(ExposeMetrics, when=_METRICS)

    @provide
    def check_readiness(
        self, probes: Sequence[DependencyProbe], settings: Settings
    ) -> CheckReadiness:
        return CheckReadiness(probes, timeout_s=settings.dependency_timeout_s)
