"""Plain builders for domain objects, with defaults a test overrides only where it matters."""

from datetime import UTC, datetime, timedelta

from domain.audit.entities import AuditAction, AuditEvent
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.identity.api_keys import (
    ApiKey,
    ApiKeyId,
    ApiKeyName,
    ApiKeyToken,
    issue_token,
    secret_hash,
)
from domain.identity.entities import User, UserId
from domain.identity.scopes import Scope
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import Membership, Organization, OrgId
from domain.organizations.value_objects import OrgName, OrgSlug
from domain.shared.ids import new_id

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def create_user(subject: str | None = None, *, email: str | None = None) -> User:
    subject = subject or f"subject-{new_id().hex[-12:]}"
    return User(
        id_=UserId(new_id()),
        subject=subject,
        email=EmailAddress(email or f"{subject}@example.com"),
        email_verified=True,
        display_name=subject.title(),
        avatar_url=None,
        created_at=T0,
    )


def create_org(
    founder: User, name: str = "Acme", slug: str | None = None, *, at: datetime = T0
) -> tuple[Organization, Membership]:
    org_name = OrgName(name)
    return Organization.found(
        name=org_name,
        slug=OrgSlug(slug) if slug else OrgSlug(f"org-{new_id().hex[-12:]}"),
        founder=founder.id_,
        now=at,
    )


def create_audit_event(org_id: OrgId | None, *, minutes: int = 0) -> AuditEvent:
    return AuditEvent(
        occurred_at=T0 + timedelta(minutes=minutes),
        action=AuditAction.ORG_CREATED,
        actor_id=None,
        org_id=org_id,
        target_type="organization",
        target_id=str(org_id),
        details={"minute": str(minutes)},
    )


def create_api_key(
    user: User,
    org_id: OrgId,
    *,
    scopes: frozenset[Scope] = frozenset(),
    minutes: int = 0,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, ApiKeyToken]:
    token = issue_token()
    key = ApiKey(
        id_=ApiKeyId(new_id()),
        user_id=user.id_,
        org_id=org_id,
        name=ApiKeyName(f"key {minutes}"),
        lookup=token.lookup,
        secret_hash=secret_hash(token.secret),
        scopes=scopes,
        created_at=T0 + timedelta(minutes=minutes),
        expires_at=expires_at,
    )
    return key, token


def create_stored_event(conversation_id: ConversationId, seq: int) -> StoredEvent:
    """An agent's message, stored as event ``seq`` (its id ``e<seq>``, its payload naming it)."""
    return StoredEvent(
        conversation_id=conversation_id,
        seq=seq,
        event_id=f"e{seq}",
        kind="MessageEvent",
        source="agent",
        type=EventType.MESSAGE,
        occurred_at=T0,
        payload={"n": seq},
    )
