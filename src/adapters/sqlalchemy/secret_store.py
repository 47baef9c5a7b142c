from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import CustomSecretRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.secret_store import SecretStore
from domain.identity.entities import UserId
from domain.secrets.entities import (
    CustomSecret,
    SecretDescription,
    SecretId,
    SecretName,
    SecretValue,
)

__all__ = ("SqlaSecretStore", "secret_context")


def secret_context(secret_id: object, field: str) -> str:
    """What a sealed custom secret column is bound to: its row and column."""
    return f"secret:{secret_id}:{field}"


def _by_code_point(secret: CustomSecret) -> str:
    """Names sort here, not in SQL, so the order is not the database collation's."""
    return secret.name.value


class SqlaSecretStore(SecretStore):
    """Custom secrets, value and description sealed by the cipher, bound to row and column."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    async def add(self, secret: CustomSecret) -> None:
        async with translate_db_errors():
            row = CustomSecretRow(
                id=secret.id_,
                user_id=secret.user_id,
                name=secret.name.value,
                created_at=secret.created_at,
            )
            self._fill(row, secret)
            self._session.add(row)
            await self._session.flush()

    async def get(self, user_id: UserId, name: SecretName) -> CustomSecret | None:
        query = select(CustomSecretRow).where(
            CustomSecretRow.user_id == user_id, CustomSecretRow.name == name.value
        )
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else self._to_entity(row)

    async def list_for(self, user_id: UserId) -> list[CustomSecret]:
        query = select(CustomSecretRow).where(CustomSecretRow.user_id == user_id)
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return sorted((self._to_entity(row) for row in rows), key=_by_code_point)

    async def save(self, secret: CustomSecret) -> None:
        async with translate_db_errors():
            row = await self._session.get(CustomSecretRow, secret.id_)
            if row is None or row.user_id != secret.user_id:
                raise LookupError(f"secret {secret.id_} was never added")
            self._fill(row, secret)
            await self._session.flush()

    async def delete(self, user_id: UserId, name: SecretName) -> bool:
        query = delete(CustomSecretRow).where(
            CustomSecretRow.user_id == user_id, CustomSecretRow.name == name.value
        )
        async with translate_db_errors():
            result = await self._session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE always counts

    def _fill(self, row: CustomSecretRow, secret: CustomSecret) -> None:
        seal = self._cipher.encrypt
        row.value = seal(secret.value.value, context=secret_context(secret.id_, "value"))
        row.description = (
            None
            if secret.description is None
            else seal(secret.description.value, context=secret_context(secret.id_, "description"))
        )
        row.updated_at = secret.updated_at

    def _to_entity(self, row: CustomSecretRow) -> CustomSecret:
        def open_(value: str, field: str) -> str:
            try:
                return self._cipher.decrypt(value, context=secret_context(row.id, field))
            except CipherError as exc:
                raise DependencyUnavailableError(UNOPENABLE) from exc

        return CustomSecret(
            id_=SecretId(row.id),
            user_id=UserId(row.user_id),
            name=SecretName(row.name),
            value=SecretValue(open_(row.value, "value")),
            description=(
                None
                if row.description is None
                else SecretDescription(open_(row.description, "description"))
            ),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
