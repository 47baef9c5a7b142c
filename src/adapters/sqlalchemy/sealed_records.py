from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ProviderTokenRow, SessionRow
from adapters.sqlalchemy.provider_token_store import provider_token_context
from adapters.sqlalchemy.session_repository import session_context
from application.ports.cipher import Cipher
from application.ports.sealed_records import SealedRecords

__all__ = ("SqlaSealedRecords",)


class SqlaSealedRecords(SealedRecords):
    """Finds sealed columns whose ciphertext names another key than the current one."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    def _reseal(self, value: str | None, context: str) -> str | None:
        if value is None or self._cipher.key_id_of(value) == self._cipher.current_key_id:
            return value
        return self._cipher.encrypt(self._cipher.decrypt(value, context=context), context=context)

    async def reseal_batch(self, limit: int) -> int:
        escaped = self._cipher.current_key_id.replace("_", "\\_").replace("%", "\\%")
        current = f"v1.{escaped}.%"
        done = 0
        async with translate_db_errors():
            sessions = await self._session.scalars(
                select(SessionRow)
                .where(
                    or_(
                        SessionRow.access_token.not_like(current, escape="\\"),
                        SessionRow.refresh_token.not_like(current, escape="\\"),
                        SessionRow.id_token.not_like(current, escape="\\"),
                    )
                )
                .limit(limit)
            )
            for row in sessions:
                row.access_token = (
                    self._reseal(row.access_token, session_context(row.id, "access")) or ""
                )
                row.refresh_token = self._reseal(
                    row.refresh_token, session_context(row.id, "refresh")
                )
                row.id_token = self._reseal(row.id_token, session_context(row.id, "id"))
                done += 1
            tokens = await self._session.scalars(
                select(ProviderTokenRow)
                .where(
                    or_(
                        ProviderTokenRow.access_token.not_like(current, escape="\\"),
                        ProviderTokenRow.refresh_token.not_like(current, escape="\\"),
                    )
                )
                .limit(max(0, limit - done))
            )
            for token in tokens:
                ctx = provider_token_context
                token.access_token = (
                    self._reseal(token.access_token, ctx(token.user_id, token.provider, "access"))
                    or ""
                )
                token.refresh_token = self._reseal(
                    token.refresh_token, ctx(token.user_id, token.provider, "refresh")
                )
                done += 1
            await self._session.flush()
        return done
