from dataclasses import replace

from application.ports.org_repository import MemberOrganization, OrgMember, OrgRepository
from domain.identity.entities import UserId
from domain.organizations.entities import Membership, Organization, OrgId, Role
from domain.organizations.errors import (
    MemberAlreadyExistsError,
    OrgSlugTakenError,
    PersonalOrgExistsError,
)
from tests.fakes.store import FakeStore


class FakeOrgRepository(OrgRepository):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, org: Organization, owner: Membership) -> None:
        tables = self._store.live
        if any(existing.slug == org.slug for existing in tables.orgs.values()):
            raise OrgSlugTakenError
        if org.personal_owner is not None and await self.get_personal(org.personal_owner):
            raise PersonalOrgExistsError
        tables.orgs[org.id_] = org
        tables.memberships[(owner.org_id, owner.user_id)] = owner

    async def get_for_member(self, org_id: OrgId, user_id: UserId) -> MemberOrganization | None:
        membership = self._store.live.memberships.get((org_id, user_id))
        if membership is None:
            return None
        return MemberOrganization(organization=self._store.live.orgs[org_id], role=membership.role)

    async def list_for_member(self, user_id: UserId) -> list[MemberOrganization]:
        tables = self._store.live
        found = [
            MemberOrganization(organization=tables.orgs[m.org_id], role=m.role)
            for m in tables.memberships.values()
            if m.user_id == user_id
        ]
        return sorted(found, key=lambda v: (v.organization.name.value, v.organization.id_))

    async def get_personal(self, user_id: UserId) -> MemberOrganization | None:
        personal = next(
            (o for o in self._store.live.orgs.values() if o.personal_owner == user_id), None
        )
        return None if personal is None else await self.get_for_member(personal.id_, user_id)

    async def add_member(self, membership: Membership) -> None:
        key = (membership.org_id, membership.user_id)
        if key in self._store.live.memberships:
            raise MemberAlreadyExistsError
        self._store.live.memberships[key] = membership

    async def set_role(self, org_id: OrgId, user_id: UserId, role: Role) -> None:
        current = self._store.live.memberships.get((org_id, user_id))
        if current is not None:
            self._store.live.memberships[(org_id, user_id)] = replace(current, role=role)

    async def remove_member(self, org_id: OrgId, user_id: UserId) -> None:
        self._store.live.memberships.pop((org_id, user_id), None)

    async def list_members(self, org_id: OrgId) -> list[OrgMember]:
        rank = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2}
        tables = self._store.live
        members = [
            OrgMember(user=tables.users[m.user_id], role=m.role, joined_at=m.joined_at)
            for m in tables.memberships.values()
            if m.org_id == org_id
        ]
        return sorted(members, key=lambda m: (rank[m.role], m.user.display_name, m.user.id_))
