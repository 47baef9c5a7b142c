from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import InvitationRow
from application.ports.invitation_repository import InvitationRepository
from domain.identity.entities import UserId
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId, Role
from domain.organizations.invitations import Invitation, InvitationId

__all__ = ("SqlaInvitationRepository",)


def _to_entity(row: InvitationRow) -> Invitation:
    return Invitation(
        id_=InvitationId(row.id),
        org_id=OrgId(row.org_id),
        email=EmailAddress(row.email),
        role=Role(row.role),
        invited_by=UserId(row.invited_by),
        created_at=row.created_at,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
        revoked_at=row.revoked_at,
    )


def _to_row(invitation: Invitation) -> InvitationRow:
    return InvitationRow(
        id=invitation.id_,
        org_id=invitation.org_id,
        email=invitation.email.value,
        email_key=invitation.email_key,
        role=invitation.role.value,
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        revoked_at=invitation.revoked_at,
    )


_OPEN = (InvitationRow.accepted_at.is_(None), InvitationRow.revoked_at.is_(None))


class _InvitationRows(SQLAlchemyAsyncRepository[InvitationRow]):
    model_type = InvitationRow


class SqlaInvitationRepository(InvitationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = _InvitationRows(session=session, auto_refresh=False, wrap_exceptions=False)

    async def add(self, invitation: Invitation) -> None:
        async with translate_db_errors():
            await self._rows.add(_to_row(invitation))

    async def get(self, org_id: OrgId, invitation_id: InvitationId) -> Invitation | None:
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(id=invitation_id, org_id=org_id)
        return None if row is None else _to_entity(row)

    async def find_open(self, org_id: OrgId, email: EmailAddress) -> Invitation | None:
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(
                *_OPEN, org_id=org_id, email_key=email.value.lower()
            )
        return None if row is None else _to_entity(row)

    async def list_open(self, org_id: OrgId) -> list[Invitation]:
        async with translate_db_errors():
            rows = await self._rows.get_many(
                *_OPEN,
                org_id=org_id,
                order_by=[(InvitationRow.created_at, True), (InvitationRow.id, True)],
            )
        return [_to_entity(row) for row in rows]

    async def list_open_for_email(self, email: EmailAddress) -> list[Invitation]:
        query = (
            select(InvitationRow)
            .where(*_OPEN, InvitationRow.email_key == email.value.lower())
            .order_by(InvitationRow.created_at, InvitationRow.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [_to_entity(row) for row in rows]

    async def save(self, invitation: Invitation) -> None:
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(id=invitation.id_)
            if row is None:
                raise LookupError(f"invitation {invitation.id_} was never added")
            row.accepted_at = invitation.accepted_at
            row.revoked_at = invitation.revoked_at
            await self._rows.session.flush()
