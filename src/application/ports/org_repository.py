from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.identity.entities import User, UserId
from domain.organizations.entities import Membership, Organization, OrgId, Role

__all__ = ("MemberOrganization", "OrgMember", "OrgRepository")


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberOrganization:
    """An organization as one of its members sees it: with that member's role."""

    organization: Organization
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgMember:
    """A member as the organization's member list shows them."""

    user: User
    role: Role
    joined_at: datetime


class OrgRepository(Protocol):
    """Organizations and their memberships. Every read is scoped by the member asking.

    Transactional: the unit of work commits.
    """

    @abstractmethod
    async def add(self, org: Organization, owner: Membership) -> None:
        """Stage a new organization with its first member.

        Raises ``OrgSlugTakenError`` when another organization has the slug.
        """

    @abstractmethod
    async def get_for_member(self, org_id: OrgId, user_id: UserId) -> MemberOrganization | None:
        """The organization if ``user_id`` is one of its members, else ``None``."""

    @abstractmethod
    async def list_for_member(self, user_id: UserId) -> list[MemberOrganization]:
        """Every organization ``user_id`` belongs to, by name then id."""

    @abstractmethod
    async def get_personal(self, user_id: UserId) -> MemberOrganization | None:
        """The personal organization of ``user_id``, if it has been made."""

    @abstractmethod
    async def add_member(self, membership: Membership) -> None:
        """Stage a membership. Raises ``MemberAlreadyExistsError`` if the user is a member."""

    @abstractmethod
    async def set_role(self, org_id: OrgId, user_id: UserId, role: Role) -> None:
        """Change the role of an existing member."""

    @abstractmethod
    async def remove_member(self, org_id: OrgId, user_id: UserId) -> None:
        """Drop a membership; removing someone who is not a member does nothing."""

    @abstractmethod
    async def list_members(self, org_id: OrgId) -> list[OrgMember]:
        """Every member of ``org_id``, owner first, then admins, then members, by name."""
