import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from advanced_alchemy.base import create_registry
from advanced_alchemy.types import JsonB
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from adapters.sqlalchemy.types import JsonText

__all__ = (
    "ApiKeyRow",
    "AppInstallationRow",
    "AuditEventRow",
    "Base",
    "BillingAccountRow",
    "BillingCustomerRow",
    "ConversationCallbackRow",
    "ConversationEventHeadRow",
    "ConversationEventRow",
    "ConversationExperimentRow",
    "ConversationPlacementRow",
    "ConversationRow",
    "CustomSecretRow",
    "GitIdentityRow",
    "InvitationRow",
    "JobRow",
    "JobScheduleRow",
    "LedgerEntryRow",
    "MembershipRow",
    "OrgSettingsRow",
    "OrganizationRow",
    "ProviderTokenRow",
    "PurchaseRow",
    "RepositoryHookRow",
    "ResolverSettingsRow",
    "ResolverThreadRow",
    "RuntimeHostRow",
    "SessionRow",
    "SettingsColumns",
    "SubscriptionRow",
    "UsageRecordRow",
    "UserRow",
    "UserSettingsRow",
    "WebhookDeliveryRow",
)


class Base(DeclarativeBase):
    """advanced-alchemy's registry: its naming convention, and by annotation ``datetime`` is
    ``DateTimeUTC`` and ``dict[str, Any]`` is ``JsonB``; ``uuid.UUID`` stays SQLAlchemy's own
    ``Uuid`` (32 hex characters on SQLite, as every revision stored it)."""

    registry = create_registry({uuid.UUID: Uuid})


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    email_verified: Mapped[bool]
    display_name: Mapped[str] = mapped_column(String(200))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime]
    terms_accepted_version: Mapped[str | None] = mapped_column(String(64))
    terms_accepted_at: Mapped[datetime | None]
    confirmed_email: Mapped[str | None] = mapped_column(String(254))


class OrganizationRow(Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("slug"), UniqueConstraint("personal_owner_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(48))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    personal_owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
        Index("ix_memberships_user_id", "user_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime]


class InvitationRow(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'member')", name="role"),
        Index(
            "uq_invitations_open",
            "org_id",
            "email_key",
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
            sqlite_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
        Index("ix_invitations_email_key", "email_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_id_occurred_at", "org_id", "occurred_at"),
        Index("ix_audit_events_actor_id", "actor_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    org_id: Mapped[uuid.UUID | None]
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        UniqueConstraint("lookup"),
        Index("ix_api_keys_user_id_org_id", "user_id", "org_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    lookup: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JsonB)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_sessions_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    id_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    identity_provider: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None]


class ProviderTokenRow(Base):
    __tablename__ = "provider_tokens"
    __table_args__ = (
        CheckConstraint("provider IN ('github', 'gitlab', 'bitbucket')", name="provider"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    scopes: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime]
    base_url: Mapped[str | None] = mapped_column(String(2048))
    refresh_expires_at: Mapped[datetime | None]


class SettingsColumns:
    """The columns user settings and org defaults share; ``llm_api_key`` and ``mcp_config``
    (JSON text) are sealed by the cipher."""

    llm_model: Mapped[str | None] = mapped_column(String(200))
    llm_api_key: Mapped[str | None] = mapped_column(Text)
    llm_base_url: Mapped[str | None] = mapped_column(String(2048))
    agent: Mapped[str | None] = mapped_column(String(64))
    max_iterations: Mapped[int | None]
    confirmation_mode: Mapped[bool | None]
    language: Mapped[str | None] = mapped_column(String(35))
    max_budget_per_task: Mapped[float | None] = mapped_column(Double)
    analytics_consent: Mapped[bool | None]
    git_author_name: Mapped[str | None] = mapped_column(String(100))
    git_author_email: Mapped[str | None] = mapped_column(String(254))
    mcp_config: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class UserSettingsRow(SettingsColumns, Base):
    __tablename__ = "user_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class OrgSettingsRow(SettingsColumns, Base):
    __tablename__ = "org_settings"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )


class CustomSecretRow(Base):
    __tablename__ = "custom_secrets"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_custom_secrets_user_id_name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_org_id_user_id", "org_id", "user_id"),
        Index("ix_conversations_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    repository: Mapped[str | None] = mapped_column(String(255))
    branch: Mapped[str | None] = mapped_column(String(255))
    git_provider: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    start_phase: Mapped[str | None] = mapped_column(String(32))
    max_budget_usd: Mapped[float | None] = mapped_column(Double)
    cost_usd: Mapped[float] = mapped_column(Double)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    active_seconds: Mapped[float] = mapped_column(Double)
    llm_payer: Mapped[str | None] = mapped_column(String(8))
    billing_hold: Mapped[str | None] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), server_default="web")
    origin_url: Mapped[str | None] = mapped_column(String(2048))
    pull_requests: Mapped[str | None] = mapped_column(Text)
    """The addresses of the pull requests it opened, one a line."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ConversationEventHeadRow(Base):
    """Per conversation: the last sequence number handed out and the greatest fencing token
    an append carried. Appends lock this row, so numbers stay dense under races."""

    __tablename__ = "conversation_event_heads"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger)
    fence: Mapped[int] = mapped_column(BigInteger)


class ConversationEventRow(Base):
    __tablename__ = "conversation_events"
    __table_args__ = (
        UniqueConstraint(
            "conversation_id", "event_id", name="uq_conversation_events_conversation_id_event_id"
        ),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    payload: Mapped[Mapping[str, Any]] = mapped_column(JsonText)
    """JSON text, not JSONB: events carry whatever their tools printed, NULs included."""


class ConversationCallbackRow(Base):
    __tablename__ = "conversation_callbacks"
    __table_args__ = (Index("ix_conversation_callbacks_conversation_id", "conversation_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    processor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ConversationExperimentRow(Base):
    """The variant of one experiment a conversation runs with: one per (conversation,
    experiment), the first kept."""

    __tablename__ = "conversation_experiments"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    experiment: Mapped[str] = mapped_column(String(100), primary_key=True)
    variant: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime]


class RuntimeHostRow(Base):
    """Where an agent-server a node runs answers its peers; ``session_key`` is sealed by the
    cipher, bound to the node and the agent-server's name."""

    __tablename__ = "runtime_hosts"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    session_key: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ConversationPlacementRow(Base):
    """Which agent-server (of which node) a conversation runs on."""

    __tablename__ = "conversation_placements"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    node: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))


class JobRow(Base):
    """A background job (``domain.jobs``): queued, running under a claim until
    ``locked_until``, done, or dead with its last error. ``dedupe_key`` makes it once-only
    while the row is kept."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_status_locked_until", "status", "locked_until"),
        Index("ix_jobs_status_finished_at", "status", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    max_attempts: Mapped[int]
    timeout_ms: Mapped[int] = mapped_column(BigInteger)
    backoff_ms: Mapped[int] = mapped_column(BigInteger)
    max_backoff_ms: Mapped[int] = mapped_column(BigInteger)
    run_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class JobScheduleRow(Base):
    """The next tick of each scheduled job, shared by every server: the one that moves it on
    enqueues that tick's job."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    """A provider's webhook delivery, once per source and delivery id, with its signed body."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_webhook_deliveries_source_delivery"),
        Index("ix_webhook_deliveries_status_received_at", "status", "received_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(200))
    processed_at: Mapped[datetime | None]


class AppInstallationRow(Base):
    """A git provider app's installation, the organization it works for once linked, and its
    current token (sealed by the cipher)."""

    __tablename__ = "app_installations"
    __table_args__ = (Index("ix_app_installations_org_id", "org_id"),)

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_login: Mapped[str] = mapped_column(String(255))
    account_type: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    repositories: Mapped[str] = mapped_column(Text)
    """The repositories it was given, one a line."""
    all_repositories: Mapped[bool]
    suspended: Mapped[bool]
    updated_at: Mapped[datetime]
    token: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]


class ResolverThreadRow(Base):
    """An issue or pull request the agent answers, and its conversation."""

    __tablename__ = "resolver_threads"
    __table_args__ = (
        UniqueConstraint("conversation_id", name="uq_resolver_threads_conversation_id"),
    )

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    repository: Mapped[str] = mapped_column(String(255), primary_key=True)
    """Lower-cased: providers name repositories without regard to case."""
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    repository_name: Mapped[str] = mapped_column(String(255))
    is_pull_request: Mapped[bool]
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    installation_id: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    last_trigger: Mapped[str] = mapped_column(String(255))
    acknowledged: Mapped[bool]
    summaries_posted: Mapped[int]
    pull_requests: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GitIdentityRow(Base):
    """A provider account a user proved theirs: one per user and provider, one user per
    account."""

    __tablename__ = "git_identities"
    __table_args__ = (
        UniqueConstraint("provider", "account_id", name="uq_git_identities_provider_account_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    login: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime]


class BillingAccountRow(Base):
    """An organization's balance, in micro-units: moved in the transaction of each entry."""

    __tablename__ = "billing_accounts"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    balance_micros: Mapped[int] = mapped_column(BigInteger)
    member_monthly_cap_micros: Mapped[int | None] = mapped_column(BigInteger)


class LedgerEntryRow(Base):
    """One movement of an organization's balance, once per cause ``(source, source_id)``."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_ledger_entries_source_source_id"),
        Index("ix_ledger_entries_org_id_created_at", "org_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    user_id: Mapped[uuid.UUID | None]
    conversation_id: Mapped[uuid.UUID | None]
    model: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))


class UsageRecordRow(Base):
    """What one usage report of a conversation added, once per ``(conversation_id,
    report_id)``; ``billed`` when the organization paid for it."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint(
            "conversation_id", "report_id", name="uq_usage_records_conversation_id_report_id"
        ),
        Index("ix_usage_records_org_id_day", "org_id", "day"),
        Index("ix_usage_records_org_id_user_id_created_at", "org_id", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID]
    report_id: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    model: Mapped[str | None] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    billed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class BillingCustomerRow(Base):
    """An organization's customer at the payment provider, one each way."""

    __tablename__ = "billing_customers"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(200), unique=True)


class PurchaseRow(Base):
    """Credits an organization set out to buy, kept before its checkout is opened."""

    __tablename__ = "purchases"
    __table_args__ = (Index("ix_purchases_org_id_created_at", "org_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    checkout_session_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


class SubscriptionRow(Base):
    """A plan subscription as the provider's newest event about it told."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_org_id", "org_id"),)

    subscription_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    price_id: Mapped[str | None] = mapped_column(String(200))
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool]
    last_event_created: Mapped[datetime]


class RepositoryHookRow(Base):
    """A repository the resolver is enabled on at a provider with no app, and its webhook's
    secret (sealed by the cipher)."""

    __tablename__ = "repository_hooks"
    __table_args__ = (
        UniqueConstraint(
            "provider",
            "web_url",
            "repository_key",
            name="uq_repository_hooks_provider_web_url_repository_key",
        ),
        Index("ix_repository_hooks_org_id", "org_id"),
        Index("ix_repository_hooks_provider_repository_key", "provider", "repository_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    web_url: Mapped[str] = mapped_column(String(255))
    repository: Mapped[str] = mapped_column(String(255))
    repository_key: Mapped[str] = mapped_column(String(255))
    """The repository lower-cased: one hook per repository, in any case."""
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    enabled_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    secret: Mapped[str] = mapped_column(Text)
    managed: Mapped[bool]
    is_group: Mapped[bool]
    """A GitLab group's webhook: ``repository`` is the group's path."""
    hook_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ResolverSettingsRow(Base):
    """An organization's resolver settings (NULL: the server's)."""

    __tablename__ = "resolver_settings"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str | None] = mapped_column(String(100))
    handle: Mapped[str | None] = mapped_column(String(101))
    max_runs_per_repository: Mapped[int | None]
    updated_at: Mapped[datetime | None]
