from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import MembershipRow, OrganizationRow, UserRow
from adapters.sqlalchemy.user_repository import row_to_user
from application.ports.org_repository import MemberOrganization, OrgMember, OrgRepository
from domain.identity.entities import UserId
from domain.organizations.entities import Membership, Organization, OrgId, Role
from domain.organizations.value_objects import OrgName, OrgSlug

__all__ = ("SqlaOrgRepository",)

_RANK = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2}
"""Listings sort in Python, not SQL, so names keep code point order under any collation."""


def _to_entity(row: OrganizationRow) -> Organization:
    return Organization(
        id_=OrgId(row.id),
        name=OrgName(row.name),
        slug=OrgSlug(row.slug),
        created_by=UserId(row.created_by),
        created_at=row.created_at,
        personal_owner=None if row.personal_owner_id is None else UserId(row.personal_owner_id),
    )


def _member_view(row: OrganizationRow, role: str) -> MemberOrganization:
    return MemberOrganization(organization=_to_entity(row), role=Role(role))


class SqlaOrgRepository(OrgRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, org: Organization, owner: Membership) -> None:
        async with translate_db_errors():
            self._session.add(
                OrganizationRow(
                    id=org.id_,
                    name=org.name.value,
                    slug=org.slug.value,
                    created_by=org.created_by,
                    created_at=org.created_at,
                    personal_owner_id=org.personal_owner,
                )
            )
            await self._session.flush()
            self._session.add(
                MembershipRow(
                    org_id=owner.org_id,
                    user_id=owner.user_id,
                    role=owner.role.value,
                    joined_at=owner.joined_at,
                )
            )
            await self._session.flush()

    async def get_for_member(self, org_id: OrgId, user_id: UserId) -> MemberOrganization | None:
        query = (
            select(OrganizationRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.org_id == OrganizationRow.id)
            .where(OrganizationRow.id == org_id, MembershipRow.user_id == user_id)
        )
        async with translate_db_errors():
            found = (await self._session.execute(query)).one_or_none()
        return None if found is None else _member_view(found[0], found[1])

    async def list_for_member(self, user_id: UserId) -> list[MemberOrganization]:
        query = (
            select(OrganizationRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.org_id == OrganizationRow.id)
            .where(MembershipRow.user_id == user_id)
        )
        async with translate_db_errors():
            rows = (await self._session.execute(query)).all()
        views = (_member_view(org, role) for org, role in rows)
        return sorted(views, key=lambda v: (v.organization.name.value, v.organization.id_))

    async def get_personal(self, user_id: UserId) -> MemberOrganization | None:
        query = (
            select(OrganizationRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.org_id == OrganizationRow.id)
            .where(OrganizationRow.personal_owner_id == user_id, MembershipRow.user_id == user_id)
        )
        async with translate_db_errors():
            found = (await self._session.execute(query)).one_or_none()
        return None if found is None else _member_view(found[0], found[1])

    async def add_member(self, membership: Membership) -> None:
        async with translate_db_errors():
            self._session.add(
                MembershipRow(
                    org_id=membership.org_id,
                    user_id=membership.user_id,
                    role=membership.role.value,
                    joined_at=membership.joined_at,
                )
            )
            await self._session.flush()

    async def set_role(self, org_id: OrgId, user_id: UserId, role: Role) -> None:
        statement = (
            update(MembershipRow)
            .where(MembershipRow.org_id == org_id, MembershipRow.user_id == user_id)
            .values(role=role.value)
        )
        async with translate_db_errors():
            await self._session.execute(statement)

    async def remove_member(self, org_id: OrgId, user_id: UserId) -> None:
        statement = delete(MembershipRow).where(
            MembershipRow.org_id == org_id, MembershipRow.user_id == user_id
        )
        async with translate_db_errors():
            await self._session.execute(statement)

    async def list_members(self, org_id: OrgId) -> list[OrgMember]:
        query = (
            select(UserRow, MembershipRow.role, MembershipRow.joined_at)
            .join(MembershipRow, MembershipRow.user_id == UserRow.id)
            .where(MembershipRow.org_id == org_id)
        )
        async with translate_db_errors():
            rows = (await self._session.execute(query)).all()
        members = (
            OrgMember(user=row_to_user(user), role=Role(role), joined_at=joined)
            for user, role, joined in rows
        )
        return sorted(members, key=lambda m: (_RANK[m.role], m.user.display_name, m.user.id_))
