from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.app_installations import installation_token_context
from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import (
    AppInstallationRow,
    Base,
    CustomSecretRow,
    OrgSettingsRow,
    ProviderTokenRow,
    RepositoryHookRow,
    RuntimeHostRow,
    SessionRow,
    UserSettingsRow,
)
from adapters.sqlalchemy.provider_token_store import provider_token_context
from adapters.sqlalchemy.repository_hooks import repository_hook_context
from adapters.sqlalchemy.runtime_directory import runtime_host_context
from adapters.sqlalchemy.secret_store import secret_context
from adapters.sqlalchemy.session_repository import session_context
from adapters.sqlalchemy.settings_store import settings_context
from application.ports.cipher import Cipher
from application.ports.sealed_records import SealedRecords

__all__ = ("SqlaSealedRecords",)


@dataclass(frozen=True, slots=True)
class _SealedTable:
    """A table with sealed columns: each column's attribute and the context it is bound to."""

    row: type[Base]
    columns: tuple[tuple[str, Callable[[Any], str]], ...]


_TABLES = (
    _SealedTable(
        SessionRow,
        (
            ("access_token", lambda r: session_context(r.id, "access")),
            ("refresh_token", lambda r: session_context(r.id, "refresh")),
            ("id_token", lambda r: session_context(r.id, "id")),
        ),
    ),
    _SealedTable(
        ProviderTokenRow,
        (
            ("access_token", lambda r: provider_token_context(r.user_id, r.provider, "access")),
            ("refresh_token", lambda r: provider_token_context(r.user_id, r.provider, "refresh")),
        ),
    ),
    _SealedTable(
        UserSettingsRow,
        (
            ("llm_api_key", lambda r: settings_context("user", r.user_id, "llm_api_key")),
            ("mcp_config", lambda r: settings_context("user", r.user_id, "mcp_config")),
        ),
    ),
    _SealedTable(
        OrgSettingsRow,
        (
            ("llm_api_key", lambda r: settings_context("org", r.org_id, "llm_api_key")),
            ("mcp_config", lambda r: settings_context("org", r.org_id, "mcp_config")),
        ),
    ),
    _SealedTable(
        CustomSecretRow,
        (
            ("value", lambda r: secret_context(r.id, "value")),
            ("description", lambda r: secret_context(r.id, "description")),
        ),
    ),
    _SealedTable(
        RuntimeHostRow,
        (("session_key", lambda r: runtime_host_context(r.node, r.name)),),
    ),
    _SealedTable(
        AppInstallationRow,
        (("token", lambda r: installation_token_context(r.provider, r.installation_id)),),
    ),
    _SealedTable(RepositoryHookRow, (("secret", lambda r: repository_hook_context(r.id)),)),
)
"""Every sealed column there is; a new one belongs here, or rotation leaves it behind."""


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
            for table in _TABLES:
                if done >= limit:
                    break
                stale = or_(
                    *(
                        getattr(table.row, name).not_like(current, escape="\\")
                        for name, _ in table.columns
                    )
                )
                rows = await self._session.scalars(
                    select(table.row).where(stale).limit(limit - done)
                )
                for row in rows:
                    for name, context in table.columns:
                        setattr(row, name, self._reseal(getattr(row, name), context(row)))
                    done += 1
            await self._session.flush()
        return done
