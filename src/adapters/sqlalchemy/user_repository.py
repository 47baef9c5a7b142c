from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import UserRow
from application.ports.user_repository import UserRepository
from domain.identity.entities import User, UserId
from domain.identity.value_objects import EmailAddress

__all__ = ("SqlaUserRepository", "row_to_user")


def row_to_user(row: UserRow) -> User:
    return User(
        id_=UserId(row.id),
        subject=row.subject,
        email=EmailAddress(row.email),
        email_verified=row.email_verified,
        display_name=row.display_name,
        avatar_url=row.avatar_url,
        created_at=row.created_at,
        terms_accepted_version=row.terms_accepted_version,
        terms_accepted_at=row.terms_accepted_at,
        confirmed_email=None if row.confirmed_email is None else EmailAddress(row.confirmed_email),
    )


def _to_row(user: User) -> UserRow:
    return UserRow(
        id=user.id_,
        subject=user.subject,
        email=user.email.value,
        email_verified=user.email_verified,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        created_at=user.created_at,
        terms_accepted_version=user.terms_accepted_version,
        terms_accepted_at=user.terms_accepted_at,
        confirmed_email=None if user.confirmed_email is None else user.confirmed_email.value,
    )


class _UserRows(SQLAlchemyAsyncRepository[UserRow]):
    model_type = UserRow


class SqlaUserRepository(UserRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._rows = _UserRows(session=session, auto_refresh=False, wrap_exceptions=False)

    async def get(self, user_id: UserId) -> User | None:
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(id=user_id)
        return None if row is None else row_to_user(row)

    async def get_by_subject(self, subject: str) -> User | None:
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(subject=subject)
        return None if row is None else row_to_user(row)

    async def find_by_email(self, email: EmailAddress) -> User | None:
        verified_then_oldest = (
            select(UserRow)
            .where(func.lower(UserRow.email) == email.value.lower())
            .order_by(UserRow.email_verified.desc(), UserRow.created_at, UserRow.id)
            .limit(1)
        )
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(statement=verified_then_oldest)
        return None if row is None else row_to_user(row)

    async def add(self, user: User) -> None:
        async with translate_db_errors():
            await self._rows.add(_to_row(user))

    async def save(self, user: User) -> None:
        async with translate_db_errors():
            row = await self._rows.get_one_or_none(id=user.id_)
            if row is None:
                raise LookupError(f"user {user.id_} was never added")
            row.email = user.email.value
            row.email_verified = user.email_verified
            row.display_name = user.display_name
            row.avatar_url = user.avatar_url
            row.terms_accepted_version = user.terms_accepted_version
            row.terms_accepted_at = user.terms_accepted_at
            row.confirmed_email = (
                None if user.confirmed_email is None else user.confirmed_email.value
            )
            await self._rows.session.flush()
