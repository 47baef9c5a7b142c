from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ProviderTokenRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.provider_token_store import ProviderTokenStore
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId

__all__ = ("SqlaProviderTokenStore", "provider_token_context")


def provider_token_context(user_id: object, provider: str, field: str) -> str:
    """What a sealed provider token is bound to: its user, provider and field."""
    return f"provider-token:{user_id}:{provider}:{field}"


class SqlaProviderTokenStore(ProviderTokenStore):
    """Provider tokens sealed by the cipher, each bound to its user, provider and field."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    async def put(self, token: ProviderToken) -> None:
        seal = self._cipher.encrypt
        async with translate_db_errors():
            row = await self._session.get(ProviderTokenRow, (token.user_id, token.provider.value))
            if row is None:
                row = ProviderTokenRow(user_id=token.user_id, provider=token.provider.value)
                self._session.add(row)
            row.access_token = seal(
                token.access_token,
                context=provider_token_context(token.user_id, token.provider, "access"),
            )
            row.refresh_token = (
                None
                if token.refresh_token is None
                else seal(
                    token.refresh_token,
                    context=provider_token_context(token.user_id, token.provider, "refresh"),
                )
            )
            row.expires_at = token.expires_at
            row.refresh_expires_at = token.refresh_expires_at
            row.base_url = token.host.base_url
            row.scopes = token.scopes
            row.updated_at = token.updated_at
            await self._session.flush()

    async def get(self, user_id: UserId, provider: ProviderKind) -> ProviderToken | None:
        query = select(ProviderTokenRow).where(
            ProviderTokenRow.user_id == user_id, ProviderTokenRow.provider == provider.value
        )
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else self._open(row)

    async def list_for(self, user_id: UserId) -> list[ProviderToken]:
        query = (
            select(ProviderTokenRow)
            .where(ProviderTokenRow.user_id == user_id)
            .order_by(ProviderTokenRow.provider)
        )
        async with translate_db_errors():
            rows = await self._session.scalars(query)
            return [self._open(row) for row in rows]

    async def delete(self, user_id: UserId, provider: ProviderKind) -> bool:
        query = delete(ProviderTokenRow).where(
            ProviderTokenRow.user_id == user_id, ProviderTokenRow.provider == provider.value
        )
        async with translate_db_errors():
            result = await self._session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE always counts

    def _open(self, row: ProviderTokenRow) -> ProviderToken:
        user_id = UserId(row.user_id)
        provider = ProviderKind(row.provider)

        def open_(value: str, field: str) -> str:
            try:
                return self._cipher.decrypt(
                    value, context=provider_token_context(user_id, provider.value, field)
                )
            except CipherError as exc:
                raise DependencyUnavailableError(UNOPENABLE) from exc

        return ProviderToken(
            user_id=user_id,
            host=GitHost(provider, row.base_url),
            access_token=open_(row.access_token, "access"),
            refresh_token=None
            if row.refresh_token is None
            else open_(row.refresh_token, "refresh"),
            expires_at=row.expires_at,
            refresh_expires_at=row.refresh_expires_at,
            scopes=row.scopes,
            updated_at=row.updated_at,
        )
