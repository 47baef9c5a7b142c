from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ApiKeyRow
from application.ports.api_key_repository import ApiKeyRepository
from domain.identity.api_keys import ApiKey, ApiKeyId, ApiKeyName
from domain.identity.entities import UserId
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId

__all__ = ("SqlaApiKeyRepository",)


def _to_entity(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id_=ApiKeyId(row.id),
        user_id=UserId(row.user_id),
        org_id=OrgId(row.org_id),
        name=ApiKeyName(row.name),
        lookup=row.lookup,
        secret_hash=row.secret_hash,
        scopes=frozenset(Scope(s) for s in row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SqlaApiKeyRepository(ApiKeyRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: ApiKey) -> None:
        async with translate_db_errors():
            self._session.add(
                ApiKeyRow(
                    id=key.id_,
                    user_id=key.user_id,
                    org_id=key.org_id,
                    name=key.name.value,
                    lookup=key.lookup,
                    secret_hash=key.secret_hash,
                    scopes=sorted(key.scopes),
                    created_at=key.created_at,
                    expires_at=key.expires_at,
                    revoked_at=key.revoked_at,
                    last_used_at=key.last_used_at,
                )
            )
            await self._session.flush()

    async def get_by_lookup(self, lookup: str) -> ApiKey | None:
        async with translate_db_errors():
            row = await self._session.scalar(select(ApiKeyRow).where(ApiKeyRow.lookup == lookup))
        return None if row is None else _to_entity(row)

    async def get_for_user(self, key_id: ApiKeyId, user_id: UserId) -> ApiKey | None:
        query = select(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.user_id == user_id)
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else _to_entity(row)

    async def list_for_user(self, user_id: UserId, org_id: OrgId) -> list[ApiKey]:
        query = (
            select(ApiKeyRow)
            .where(ApiKeyRow.user_id == user_id, ApiKeyRow.org_id == org_id)
            .order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id.desc())
        )
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [_to_entity(row) for row in rows]

    async def save(self, key: ApiKey) -> None:
        async with translate_db_errors():
            row = await self._session.get(ApiKeyRow, key.id_)
            if row is None:
                raise LookupError(f"API key {key.id_} was never added")
            row.revoked_at = key.revoked_at
            row.last_used_at = key.last_used_at
            await self._session.flush()

    async def revoke_all(self, user_id: UserId, org_id: OrgId, now: datetime) -> int:
        statement = (
            update(ApiKeyRow)
            .where(
                ApiKeyRow.user_id == user_id,
                ApiKeyRow.org_id == org_id,
                ApiKeyRow.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        async with translate_db_errors():
            result = await self._session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]
