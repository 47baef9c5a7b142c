import unicodedata
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
    personal_owner: UserId | None = None
    """Set on the one organization every user gets for their own work; it has no other member."""

    @property
    def is_personal(self) -> bool:
        return self.personal_owner is not None

    @classmethod
    def found(
        cls, *, name: OrgName, slug: OrgSlug, founder: UserId, now: datetime
    ) -> tuple["Organization", Membership]:
        """A new organization and the membership that makes its founder the owner."""
        org = cls(id_=OrgId(new_id()), name=name, slug=slug, created_by=founder, created_at=now)
        owner = Membership(org_id=org.id_, user_id=founder, role=Role.OWNER, joined_at=now)
        return org, owner

    @classmethod
    def personal_for(
        cls, *, owner: UserId, display_name: str, now: datetime
    ) -> tuple["Organization", Membership]:
        """The personal organization of ``owner``, with ``owner`` as its only member."""
        org_id = OrgId(new_id())
        visible = "".join(ch for ch in display_name if not unicodedata.category(ch).startswith("C"))
        base = " ".join(visible.split())[: OrgName.MAX_LENGTH - len(" (personal)")].strip()
        name = OrgName(f"{base or 'My workspace'} (personal)")
        org = cls(
            id_=org_id,
            name=name,
            slug=OrgSlug(f"personal-{org_id.hex[-12:]}"),
            created_by=owner,
            created_at=now,
            personal_owner=owner,
        )
        membership = Membership(org_id=org_id, user_id=owner, role=Role.OWNER, joined_at=now)
        return org, membership

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Organization) and other.id_ == self.id_

    def __hash__(self) -> int:
        return hash(self.id_)
