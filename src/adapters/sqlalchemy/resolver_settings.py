from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ResolverSettingsRow
from application.ports.resolver_settings import ResolverSettingsStore
from domain.organizations.entities import OrgId
from domain.resolver.entities import ResolverSettings

__all__ = ("SqlaResolverSettingsStore",)


class SqlaResolverSettingsStore(ResolverSettingsStore):
    """The ``resolver_settings`` table, one row per organization."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, org_id: OrgId) -> ResolverSettings | None:
        async with translate_db_errors():
            row = await self._session.get(ResolverSettingsRow, org_id, populate_existing=True)
        if row is None:
            return None
        return ResolverSettings(
            org_id=OrgId(row.org_id),
            label=row.label,
            handle=row.handle,
            max_runs_per_repository=row.max_runs_per_repository,
            updated_at=row.updated_at,
        )

    async def put(self, settings: ResolverSettings) -> None:
        async with translate_db_errors():
            row = await self._session.get(ResolverSettingsRow, settings.org_id)
            if row is None:
                row = ResolverSettingsRow(org_id=settings.org_id)
                self._session.add(row)
            row.label = settings.label
            row.handle = settings.handle
            row.max_runs_per_repository = settings.max_runs_per_repository
            row.updated_at = settings.updated_at
            await self._session.flush()
