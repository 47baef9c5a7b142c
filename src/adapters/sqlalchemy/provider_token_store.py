from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ProviderTokenRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from domain.identity.entities import UserId
from domain.ports.provider_token_store import ProviderToken, ProviderTokenStore

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
            row = await self._session.get(ProviderTokenRow, (token.user_id, token.provider))
            if row is None:
                row = ProviderTokenRow(user_id=token.user_id, provider=token.provider)
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
            row.scopes = token.scopes
            row.updated_at = token.updated_at
            await self._session.flush()

    async def get(self, user_id: UserId, provider: str) -> ProviderToken | None:
        query = select(ProviderTokenRow).where(
            ProviderTokenRow.user_id == user_id, ProviderTokenRow.provider == provider
        )
        async with translate_db_errors():
            row = await self._session.scalar(query)
        if row is None:
            return None

        def open_(value: str, *, context: str) -> str:
            try:
                return self._cipher.decrypt(value, context=context)
            except CipherError as exc:
                raise DependencyUnavailableError(UNOPENABLE) from exc

        return ProviderToken(
            user_id=user_id,
            provider=provider,
            access_token=open_(
                row.access_token, context=provider_token_context(user_id, provider, "access")
            ),
            refresh_token=(
                None
                if row.refresh_token is None
                else open_(
                    row.refresh_token, context=provider_token_context(user_id, provider, "refresh")
                )
            ),
            expires_at=row.expires_at,
            scopes=row.scopes,
            updated_at=row.updated_at,
        )
