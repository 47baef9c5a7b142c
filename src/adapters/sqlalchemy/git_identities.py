from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import GitIdentityRow
from application.ports.git_identities import GitIdentityStore
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.resolver.entities import GitIdentity

__all__ = ("SqlaGitIdentityStore",)


def _identity(row: GitIdentityRow) -> GitIdentity:
    return GitIdentity(
        user_id=UserId(row.user_id),
        provider=ProviderKind(row.provider),
        account_id=row.account_id,
        login=row.login,
        linked_at=row.linked_at,
    )


class SqlaGitIdentityStore(GitIdentityStore):
    """The ``git_identities`` table: one row per user and provider, unique per account."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def link(self, identity: GitIdentity) -> None:
        provider = identity.provider.value
        async with translate_db_errors():
            await self._session.execute(
                delete(GitIdentityRow).where(
                    GitIdentityRow.provider == provider,
                    GitIdentityRow.account_id == identity.account_id,
                    GitIdentityRow.user_id != identity.user_id,
                )
            )
            row = await self._session.get(
                GitIdentityRow, (identity.user_id, provider), populate_existing=True
            )
            if row is None:
                row = GitIdentityRow(user_id=identity.user_id, provider=provider)
                self._session.add(row)
            row.account_id = identity.account_id
            row.login = identity.login
            row.linked_at = identity.linked_at
            await self._session.flush()

    async def user_of(self, provider: ProviderKind, account_id: str) -> UserId | None:
        query = select(GitIdentityRow.user_id).where(
            GitIdentityRow.provider == provider.value, GitIdentityRow.account_id == account_id
        )
        async with translate_db_errors():
            found = await self._session.scalar(query)
        return None if found is None else UserId(found)

    async def of_user(self, user_id: UserId, provider: ProviderKind) -> GitIdentity | None:
        async with translate_db_errors():
            row = await self._session.get(
                GitIdentityRow, (user_id, provider.value), populate_existing=True
            )
        return None if row is None else _identity(row)
