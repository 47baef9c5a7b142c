from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import ResolverThreadRow
from application.ports.resolver_threads import ResolverThreadStore
from domain.conversations.value_objects import ConversationId
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.entities import ResolverThread
from domain.resolver.triggers import ThreadRef

__all__ = ("SqlaResolverThreadStore",)


def _key(ref: ThreadRef) -> tuple[str, str, int]:
    return ref.provider.value, ref.repository.lower(), ref.number


def _thread(row: ResolverThreadRow) -> ResolverThread:
    return ResolverThread(
        thread=ThreadRef(
            provider=ProviderKind(row.provider),
            repository=row.repository_name,
            number=row.number,
            is_pull_request=row.is_pull_request,
        ),
        org_id=OrgId(row.org_id),
        user_id=UserId(row.user_id),
        installation_id=row.installation_id,
        conversation_id=ConversationId(row.conversation_id),
        last_trigger=row.last_trigger,
        acknowledged=row.acknowledged,
        summaries_posted=row.summaries_posted,
        pull_requests=tuple((row.pull_requests or "").split()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlaResolverThreadStore(ResolverThreadStore):
    """The ``resolver_threads`` table, one row per issue (its repository lower-cased in the
    key); a second thread for one issue is a no-op (``INSERT ... ON CONFLICT DO NOTHING``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, thread: ResolverThread) -> bool:
        provider, repository, number = _key(thread.thread)
        statement = (
            dialect_insert(self._session, ResolverThreadRow)
            .values(
                provider=provider,
                repository=repository,
                number=number,
                repository_name=thread.thread.repository,
                is_pull_request=thread.thread.is_pull_request,
                org_id=thread.org_id,
                user_id=thread.user_id,
                installation_id=thread.installation_id,
                conversation_id=thread.conversation_id,
                last_trigger=thread.last_trigger,
                acknowledged=thread.acknowledged,
                summaries_posted=thread.summaries_posted,
                pull_requests="\n".join(thread.pull_requests) or None,
                created_at=thread.created_at,
                updated_at=thread.updated_at,
            )
            .on_conflict_do_nothing(index_elements=["provider", "repository", "number"])
            .returning(ResolverThreadRow.conversation_id)
        )
        async with translate_db_errors():
            return (await self._session.execute(statement)).first() is not None

    async def save(self, thread: ResolverThread) -> None:
        provider, repository, number = _key(thread.thread)
        statement = (
            update(ResolverThreadRow)
            .where(
                ResolverThreadRow.provider == provider,
                ResolverThreadRow.repository == repository,
                ResolverThreadRow.number == number,
            )
            .values(
                last_trigger=thread.last_trigger,
                acknowledged=thread.acknowledged,
                summaries_posted=thread.summaries_posted,
                pull_requests="\n".join(thread.pull_requests) or None,
                updated_at=thread.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            await self._session.execute(statement)

    async def get(self, ref: ThreadRef) -> ResolverThread | None:
        provider, repository, number = _key(ref)
        query = select(ResolverThreadRow).where(
            ResolverThreadRow.provider == provider,
            ResolverThreadRow.repository == repository,
            ResolverThreadRow.number == number,
        )
        return await self._one(query)

    async def list_for_repository(
        self, provider: ProviderKind, repository: str
    ) -> list[ResolverThread]:
        query = (
            select(ResolverThreadRow)
            .where(
                ResolverThreadRow.provider == provider.value,
                ResolverThreadRow.repository == repository.lower(),
            )
            .order_by(ResolverThreadRow.created_at, ResolverThreadRow.number)
        )
        async with translate_db_errors():
            rows = await self._session.scalars(query.execution_options(populate_existing=True))
            return [_thread(row) for row in rows.all()]

    async def for_conversation(self, conversation_id: ConversationId) -> ResolverThread | None:
        query = select(ResolverThreadRow).where(
            ResolverThreadRow.conversation_id == conversation_id
        )
        return await self._one(query)

    async def delete(self, ref: ThreadRef) -> bool:
        provider, repository, number = _key(ref)
        statement = delete(ResolverThreadRow).where(
            ResolverThreadRow.provider == provider,
            ResolverThreadRow.repository == repository,
            ResolverThreadRow.number == number,
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return bool(result.rowcount)

    async def _one(self, query: Any) -> ResolverThread | None:
        async with translate_db_errors():
            row = (
                await self._session.scalars(query.execution_options(populate_existing=True))
            ).first()
        return None if row is None else _thread(row)
