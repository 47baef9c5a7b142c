from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import AppInstallationRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.app_installations import AppInstallationStore
from application.ports.cipher import Cipher, CipherError
from domain.git.providers import ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.entities import AppInstallation, InstallationToken

__all__ = ("SqlaAppInstallationStore", "installation_token_context")


def installation_token_context(provider: str, installation_id: str) -> str:
    """What a sealed installation token is bound to: its provider and installation."""
    return f"app-installation-token:{provider}:{installation_id}"


class SqlaAppInstallationStore(AppInstallationStore):
    """The ``app_installations`` table; tokens sealed by the cipher, cached by compare-and-set
    on their expiry (an ``UPDATE ... WHERE token_expires_at = <the one read>``)."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    async def put(self, installation: AppInstallation) -> None:
        key = (installation.provider.value, installation.installation_id)
        async with translate_db_errors():
            row = await self._session.get(AppInstallationRow, key, populate_existing=True)
            if row is None:
                row = AppInstallationRow(
                    provider=installation.provider.value,
                    installation_id=installation.installation_id,
                )
                self._session.add(row)
            row.account_login = installation.account_login
            row.account_type = installation.account_type
            row.org_id = installation.org_id
            row.repositories = "\n".join(installation.repositories)
            row.all_repositories = installation.all_repositories
            row.suspended = installation.suspended
            row.updated_at = installation.updated_at
            await self._session.flush()

    async def get(self, provider: ProviderKind, installation_id: str) -> AppInstallation | None:
        async with translate_db_errors():
            row = await self._session.get(
                AppInstallationRow, (provider.value, installation_id), populate_existing=True
            )
        return None if row is None else self._open(row)

    async def delete(self, provider: ProviderKind, installation_id: str) -> bool:
        statement = delete(AppInstallationRow).where(
            AppInstallationRow.provider == provider.value,
            AppInstallationRow.installation_id == installation_id,
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return bool(result.rowcount)

    async def list_for_org(self, org_id: OrgId) -> list[AppInstallation]:
        query = (
            select(AppInstallationRow)
            .where(AppInstallationRow.org_id == org_id)
            .order_by(AppInstallationRow.provider, AppInstallationRow.account_login)
        )
        async with translate_db_errors():
            return [self._open(row) for row in (await self._session.scalars(query)).all()]

    async def store_token(
        self,
        provider: ProviderKind,
        installation_id: str,
        token: InstallationToken,
        *,
        replacing: datetime | None,
    ) -> bool:
        sealed = self._cipher.encrypt(
            token.token, context=installation_token_context(provider.value, installation_id)
        )
        current = (
            AppInstallationRow.token_expires_at.is_(None)
            if replacing is None
            else AppInstallationRow.token_expires_at == replacing
        )
        statement = (
            update(AppInstallationRow)
            .where(
                AppInstallationRow.provider == provider.value,
                AppInstallationRow.installation_id == installation_id,
                current,
            )
            .values(token=sealed, token_expires_at=token.expires_at)
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return bool(result.rowcount == 1)

    def _open(self, row: AppInstallationRow) -> AppInstallation:
        token = None
        if row.token is not None and row.token_expires_at is not None:
            try:
                value = self._cipher.decrypt(
                    row.token,
                    context=installation_token_context(row.provider, row.installation_id),
                )
            except CipherError as exc:
                raise DependencyUnavailableError(UNOPENABLE) from exc
            token = InstallationToken(token=value, expires_at=row.token_expires_at)
        return AppInstallation(
            provider=ProviderKind(row.provider),
            installation_id=row.installation_id,
            account_login=row.account_login,
            account_type=row.account_type,
            org_id=None if row.org_id is None else OrgId(row.org_id),
            repositories=tuple(row.repositories.split()),
            all_repositories=row.all_repositories,
            suspended=row.suspended,
            updated_at=row.updated_at,
            token=token,
        )
