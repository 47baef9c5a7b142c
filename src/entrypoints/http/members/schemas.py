import base64
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from application.ports.audit_log import AuditCursor
from application.ports.org_repository import OrgMember
from domain.audit.entities import AuditEvent
from domain.organizations.entities import Role
from domain.organizations.invitations import Invitation, InvitationStatus
from domain.shared.errors import InvalidValueError
from entrypoints.http.wire_names import wire_name

__all__ = (
    "AuditEventList",
    "AuditEventOut",
    "InvitationCreate",
    "InvitationList",
    "InvitationOut",
    "MemberAdd",
    "MemberList",
    "MemberOut",
    "MemberRoleUpdate",
    "OwnershipTransfer",
    "decode_audit_cursor",
    "encode_audit_cursor",
)


class MemberAdd(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(examples=["ada@example.com"])]
    role: Role = Role.MEMBER


class InvitationCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(examples=["ada@example.com"])]
    role: Role = Role.MEMBER


class InvitationOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    email: str
    role: Role
    status: InvitationStatus
    invited_by: UUID
    created_at: datetime
    expires_at: datetime

    @classmethod
    def from_entity(cls, invitation: Invitation, now: datetime) -> "InvitationOut":
        return cls(
            id=invitation.id_,
            email=invitation.email.value,
            role=invitation.role,
            status=invitation.status(now),
            invited_by=invitation.invited_by,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
        )


class InvitationList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[InvitationOut]


class MemberRoleUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Role


class OwnershipTransfer(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    user_id: UUID


class MemberOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    user_id: UUID
    email: str
    display_name: str
    avatar_url: str | None
    role: Role
    joined_at: datetime

    @classmethod
    def from_view(cls, member: OrgMember) -> "MemberOut":
        return cls(
            user_id=member.user.id_,
            email=member.user.email.value,
            display_name=member.user.display_name,
            avatar_url=member.user.avatar_url,
            role=member.role,
            joined_at=member.joined_at,
        )


class MemberList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[MemberOut]


class AuditEventOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    occurred_at: datetime
    action: str
    actor_id: UUID | None
    target_type: str
    target_id: str
    details: dict[str, str]

    @classmethod
    def from_entity(cls, event: AuditEvent) -> "AuditEventOut":
        return cls(
            id=event.id_,
            occurred_at=event.occurred_at,
            action=event.action.value,
            actor_id=event.actor_id,
            target_type=event.target_type,
            target_id=event.target_id,
            details={key: _shown(key, value) for key, value in event.details.items()},
        )


def _shown(key: str, value: str) -> str:
    """A detail as the client reads it: ``fields`` lists what changed by attribute, which
    clients know by their wire names."""
    if key != "fields" or not value:
        return value
    return ",".join(sorted(wire_name(name) for name in value.split(",")))


class AuditEventList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[AuditEventOut]
    next_cursor: str | None = None
    """Pass as ``cursor`` for the next page; absent on the last one."""


def encode_audit_cursor(event: AuditEvent) -> str:
    raw = f"{event.occurred_at.isoformat()}|{event.id_}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_audit_cursor(cursor: str) -> AuditCursor:
    refused = InvalidValueError(
        "Pass the nextCursor of the previous page, unchanged.", field="cursor"
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, event_id = raw.partition("|")
        occurred_at = datetime.fromisoformat(moment)
        found = AuditCursor(occurred_at, UUID(event_id))
    except ValueError:
        raise refused from None
    if occurred_at.tzinfo is None:
        raise refused
    return found
