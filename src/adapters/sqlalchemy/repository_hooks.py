from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import RepositoryHookRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.repository_hooks import RepositoryHookStore
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.entities import RepositoryHook

__all__ = ("SqlaRepositoryHookStore", "repository_hook_context")


def repository_hook_context(hook_id: str) -> str:
    """What a sealed webhook secret is bound to: its hook."""
    return f"repository-hook-secret:{hook_id}"


class SqlaRepositoryHookStore(RepositoryHookStore):
    """The ``repository_hooks`` table, secrets sealed by the cipher; a second hook on one
    repository is a no-op (``INSERT ... ON CONFLICT DO NOTHING``)."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    async def add(self, hook: RepositoryHook) -> bool:
        statement = (
            dialect_insert(self._session, RepositoryHookRow)
            .values(
                id=hook.id_,
                provider=hook.provider.value,
                web_url=hook.web_url,
                repository=hook.repository,
                repository_key=hook.repository.lower(),
                org_id=hook.org_id,
                enabled_by=hook.enabled_by,
                secret=self._cipher.encrypt(hook.secret, context=repository_hook_context(hook.id_)),
                managed=hook.managed,
                is_group=hook.group,
                hook_id=hook.hook_id,
                created_at=hook.created_at,
                updated_at=hook.updated_at,
            )
            .on_conflict_do_nothing(index_elements=["provider", "web_url", "repository_key"])
            .returning(RepositoryHookRow.id)
        )
        async with translate_db_errors():
            return (await self._session.execute(statement)).first() is not None

    async def save(self, hook: RepositoryHook) -> None:
        async with translate_db_errors():
            row = await self._session.get(RepositoryHookRow, hook.id_, populate_existing=True)
            if row is None:
                return
            row.hook_id = hook.hook_id
            row.updated_at = hook.updated_at
            await self._session.flush()

    async def get(self, hook_id: str) -> RepositoryHook | None:
        async with translate_db_errors():
            row = await self._session.get(RepositoryHookRow, hook_id, populate_existing=True)
        return None if row is None else self._open(row)

    async def for_repository(self, provider: ProviderKind, repository: str) -> list[RepositoryHook]:
        key = repository.lower()
        parents = ["/".join(key.split("/")[:n]) for n in range(1, key.count("/") + 1)]
        query = (
            select(RepositoryHookRow)
            .where(
                RepositoryHookRow.provider == provider.value,
                or_(
                    RepositoryHookRow.repository_key == key,
                    RepositoryHookRow.is_group & RepositoryHookRow.repository_key.in_(parents),
                ),
            )
            .order_by(RepositoryHookRow.web_url, RepositoryHookRow.repository_key)
        )
        async with translate_db_errors():
            return [self._open(row) for row in (await self._session.scalars(query)).all()]

    async def list_for_org(self, org_id: OrgId) -> list[RepositoryHook]:
        query = (
            select(RepositoryHookRow)
            .where(RepositoryHookRow.org_id == org_id)
            .order_by(RepositoryHookRow.provider, RepositoryHookRow.repository_key)
        )
        async with translate_db_errors():
            return [self._open(row) for row in (await self._session.scalars(query)).all()]

    async def delete(self, hook_id: str) -> bool:
        statement = delete(RepositoryHookRow).where(RepositoryHookRow.id == hook_id)
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return bool(result.rowcount)

    def _open(self, row: RepositoryHookRow) -> RepositoryHook:
        try:
            secret = self._cipher.decrypt(row.secret, context=repository_hook_context(row.id))
        except CipherError as exc:
            raise DependencyUnavailableError(UNOPENABLE) from exc
        return RepositoryHook(
            id_=row.id,
            provider=ProviderKind(row.provider),
            web_url=row.web_url,
            repository=row.repository,
            org_id=OrgId(row.org_id),
            enabled_by=UserId(row.enabled_by),
            secret=secret,
            managed=row.managed,
            hook_id=row.hook_id,
            group=row.is_group,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
