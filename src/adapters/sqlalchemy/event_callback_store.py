from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ConversationCallbackRow
from application.ports.event_callback_store import EventCallbackStore
from domain.conversations.entities import CallbackId, CallbackStatus, EventCallback
from domain.conversations.value_objects import ConversationId

__all__ = ("SqlaEventCallbackStore",)


class SqlaEventCallbackStore(EventCallbackStore):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, callback: EventCallback) -> None:
        async with translate_db_errors():
            self._session.add(
                ConversationCallbackRow(
                    id=callback.id_,
                    conversation_id=callback.conversation_id,
                    processor=callback.processor,
                    status=callback.status.value,
                    state=dict(callback.state),
                    updated_at=callback.updated_at,
                )
            )
            await self._session.flush()

    async def active_for(self, conversation_id: ConversationId) -> list[EventCallback]:
        query = (
            select(ConversationCallbackRow)
            .where(
                ConversationCallbackRow.conversation_id == conversation_id,
                ConversationCallbackRow.status == CallbackStatus.ACTIVE.value,
            )
            .order_by(ConversationCallbackRow.id)
        )
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [
            EventCallback(
                id_=CallbackId(row.id),
                conversation_id=ConversationId(row.conversation_id),
                processor=row.processor,
                status=CallbackStatus(row.status),
                state=dict(row.state),
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    async def save(self, callback: EventCallback) -> None:
        statement = (
            update(ConversationCallbackRow)
            .where(ConversationCallbackRow.id == callback.id_)
            .values(
                status=callback.status.value,
                state=dict(callback.state),
                updated_at=callback.updated_at,
            )
        )
        async with translate_db_errors():
            await self._session.execute(statement)
