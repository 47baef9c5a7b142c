from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.identity.entities import UserId
from domain.organizations.value_objects import OrgName, OrgSlug
from domain.shared.ids import new_id

__all__ = ("Membership", "OrgId", "Organization", "Role")

OrgId = NewType("OrgId", UUID)


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@dataclass(frozen=True, slots=True, kw_only=True)
class Membership:
    org_id: OrgId
    user_id: UserId
    role: Role
    joined_at: datetime


@dataclass(kw_only=True, eq=False)
class Organization:
    """A tenant: it owns conversations, settings and secrets, and has members with roles."""

    id_: OrgId
    name: OrgName
    slug: OrgSlug
    created_by: UserId
    created_at: datetime

    @classmethod
    def found(
        cls, *, name: OrgName, slug: OrgSlug, founder: UserId, now: datetime
    ) -> tuple["Organization", Membership]:
        """A new organization and the membership that makes its founder the owner."""
        org = cls(id_=OrgId(new_id()), name=name, slug=slug, created_by=founder, created_at=now)
        owner = Membership(org_id=org.id_, user_id=founder, role=Role.OWNER, joined_at=now)
        return org, owner

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Organization) and other.id_ == self.id_

    def __hash__(self) -> int:
        return hash(self.id_)
