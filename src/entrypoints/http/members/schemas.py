from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.audit.entities import AuditEvent
from domain.organizations.entities import Role
from domain.ports.org_repository import OrgMember

__all__ = (
    "AuditEventList",
    "AuditEventOut",
    "MemberAdd",
    "MemberList",
    "MemberOut",
    "MemberRoleUpdate",
    "OwnershipTransfer",
)


class MemberAdd(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(examples=["ada@example.com"])]
    role: Role = Role.MEMBER


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
            details=dict(event.details),
        )


class AuditEventList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[AuditEventOut]
