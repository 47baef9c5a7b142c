from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id

__all__ = ("AuditAction", "AuditEvent")


class AuditAction(StrEnum):
    USER_PROVISIONED = "user.provisioned"
    SIGNED_IN = "user.signed_in"
    SIGNED_OUT = "user.signed_out"
    TERMS_ACCEPTED = "user.terms_accepted"
    EMAIL_CONFIRMED = "user.email_confirmed"
    ORG_CREATED = "org.created"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    MEMBER_ADDED = "member.added"
    INVITATION_CREATED = "invitation.created"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    ROLE_CHANGED = "member.role_changed"
    OWNERSHIP_TRANSFERRED = "org.ownership_transferred"
    GIT_PROVIDER_CONNECTED = "git_provider.connected"
    GIT_PROVIDER_DISCONNECTED = "git_provider.disconnected"
    ORG_SETTINGS_CHANGED = "org.settings_changed"
    MEMBER_CAP_CHANGED = "billing.member_cap_changed"
    RESOLVER_REPOSITORY_ENABLED = "resolver.repository_enabled"
    RESOLVER_REPOSITORY_DISABLED = "resolver.repository_disabled"
    RESOLVER_SETTINGS_CHANGED = "resolver.settings_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """Who did what to which resource, and when; written in the same transaction as the change."""

    id_: UUID = field(default_factory=new_id)
    occurred_at: datetime
    action: AuditAction
    actor_id: UserId | None
    org_id: OrgId | None
    target_type: str
    target_id: str
    details: Mapping[str, str] = field(default_factory=dict)
