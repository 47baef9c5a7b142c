from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import (
    CustomSecretRow,
    OrgSettingsRow,
    ProviderTokenRow,
    SessionRow,
    SettingsColumns,
    UserSettingsRow,
)
from adapters.sqlalchemy.provider_token_store import provider_token_context
from adapters.sqlalchemy.secret_store import secret_context
from adapters.sqlalchemy.session_repository import session_context
from adapters.sqlalchemy.settings_store import settings_context
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
            done += await self._reseal_settings_and_secrets(current, max(0, limit - done))
            await self._session.flush()
        return done

    async def _reseal_settings_and_secrets(self, current: str, limit: int) -> int:
        """Up to ``limit`` rows of settings (LLM API key, MCP configuration) and custom secrets
        (value, description) that another key sealed, resealed in place."""
        done = 0
        users = await self._session.scalars(
            select(UserSettingsRow)
            .where(_stale_settings(UserSettingsRow, current))
            .limit(max(0, limit - done))
        )
        for user_row in users:
            self._reseal_settings(user_row, "user", user_row.user_id)
            done += 1
        orgs = await self._session.scalars(
            select(OrgSettingsRow)
            .where(_stale_settings(OrgSettingsRow, current))
            .limit(max(0, limit - done))
        )
        for org_row in orgs:
            self._reseal_settings(org_row, "org", org_row.org_id)
            done += 1
        secrets = await self._session.scalars(
            select(CustomSecretRow)
            .where(
                or_(
                    CustomSecretRow.value.not_like(current, escape="\\"),
                    CustomSecretRow.description.not_like(current, escape="\\"),
                )
            )
            .limit(max(0, limit - done))
        )
        for secret in secrets:
            secret.value = self._reseal(secret.value, secret_context(secret.id, "value")) or ""
            secret.description = self._reseal(
                secret.description, secret_context(secret.id, "description")
            )
            done += 1
        return done

    def _reseal_settings(self, row: SettingsColumns, level: str, owner: object) -> None:
        row.llm_api_key = self._reseal(
            row.llm_api_key, settings_context(level, owner, "llm_api_key")
        )
        row.mcp_config = self._reseal(row.mcp_config, settings_context(level, owner, "mcp_config"))


def _stale_settings(
    table: type[UserSettingsRow] | type[OrgSettingsRow], current: str
) -> ColumnElement[bool]:
    return or_(
        table.llm_api_key.not_like(current, escape="\\"),
        table.mcp_config.not_like(current, escape="\\"),
    )
