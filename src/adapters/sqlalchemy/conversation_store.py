from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.conversation_repository import SqlaConversationRepository
from adapters.sqlalchemy.event_callback_store import SqlaEventCallbackStore
from adapters.sqlalchemy.event_store import SqlaEventStore
from adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from application.ports.conversation_store import ConversationStore, ConversationTransaction

__all__ = ("SqlaConversationStore",)


class SqlaConversationStore(ConversationStore):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def transaction(self) -> AbstractAsyncContextManager[ConversationTransaction]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[ConversationTransaction]:
        async with self._sessions() as session:
            yield ConversationTransaction(
                conversations=SqlaConversationRepository(session),
                events=SqlaEventStore(session),
                callbacks=SqlaEventCallbackStore(session),
                uow=SqlaUnitOfWork(session),
            )
