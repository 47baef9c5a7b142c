from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol

from domain.identity.entities import UserId
from domain.organizations.entities import Membership, Organization, OrgId, Role

__all__ = ("MemberOrganization", "OrgRepository")


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberOrganization:
    """An organization as one of its members sees it: with that member's role."""

    organization: Organization
    role: Role


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
