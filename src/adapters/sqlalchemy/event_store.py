from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ConversationEventHeadRow, ConversationEventRow
from application.ports.event_store import EventStore
from domain.conversations.entities import StoredEvent
from domain.conversations.errors import StaleFenceError
from domain.conversations.value_objects import (
    SERVER_SOURCE,
    ConversationId,
    EventType,
    RuntimeEvent,
)

__all__ = ("SqlaEventStore",)


def _to_entity(row: ConversationEventRow) -> StoredEvent:
    return StoredEvent(
        conversation_id=ConversationId(row.conversation_id),
        seq=row.seq,
        event_id=row.event_id,
        kind=row.kind,
        source=row.source,
        type=EventType(row.type),
        occurred_at=row.occurred_at,
        payload=row.payload,
    )


class SqlaEventStore(EventStore):
    """Appends lock the conversation's head row first (an UPDATE, which PostgreSQL holds per
    row and SQLite per database), so racing appends number one after the other."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _lock_head(self, conversation_id: ConversationId) -> tuple[int, int]:
        dialect = self._session.get_bind().dialect.name
        values = {"conversation_id": conversation_id, "last_seq": 0, "fence": 0}
        insert: Any = (
            postgresql.insert(ConversationEventHeadRow)
            if dialect == "postgresql"
            else sqlite.insert(ConversationEventHeadRow)
        )
        await self._session.execute(
            insert.values(**values).on_conflict_do_nothing(index_elements=["conversation_id"])
        )
        head = ConversationEventHeadRow
        result = await self._session.execute(
            update(head)
            .where(head.conversation_id == conversation_id)
            .values(last_seq=head.last_seq)
            .returning(head.last_seq, head.fence)
        )
        last_seq, fence = result.one()
        return int(last_seq), int(fence)

    async def append(
        self, conversation_id: ConversationId, events: Sequence[RuntimeEvent], *, fence: int | None
    ) -> list[StoredEvent]:
        async with translate_db_errors():
            last_seq, seen = await self._lock_head(conversation_id)
            if fence is None:
                fence = seen  # this server's own note: no owner's token to check or keep
            elif fence < seen:
                raise StaleFenceError
            ids = [event.event_id for event in events]
            existing = (
                set(
                    (
                        await self._session.scalars(
                            select(ConversationEventRow.event_id).where(
                                ConversationEventRow.conversation_id == conversation_id,
                                ConversationEventRow.event_id.in_(ids),
                            )
                        )
                    ).all()
                )
                if ids
                else set()
            )
            stored: list[StoredEvent] = []
            for event in events:
                if event.event_id in existing:
                    continue
                existing.add(event.event_id)
                last_seq += 1
                stored.append(
                    StoredEvent(
                        conversation_id=conversation_id,
                        seq=last_seq,
                        event_id=event.event_id,
                        kind=event.kind,
                        source=event.source,
                        type=event.type,
                        occurred_at=event.occurred_at,
                        payload=event.payload,
                    )
                )
            self._session.add_all(
                ConversationEventRow(
                    conversation_id=conversation_id,
                    seq=item.seq,
                    event_id=item.event_id,
                    kind=item.kind,
                    source=item.source,
                    type=item.type.value,
                    occurred_at=item.occurred_at,
                    payload=dict(item.payload),
                )
                for item in stored
            )
            await self._session.execute(
                update(ConversationEventHeadRow)
                .where(ConversationEventHeadRow.conversation_id == conversation_id)
                .values(last_seq=last_seq, fence=max(fence, seen))
            )
            await self._session.flush()
        return stored

    async def list_after(
        self, conversation_id: ConversationId, after: int = 0, limit: int = 100
    ) -> list[StoredEvent]:
        query = (
            select(ConversationEventRow)
            .where(
                ConversationEventRow.conversation_id == conversation_id,
                ConversationEventRow.seq > after,
            )
            .order_by(ConversationEventRow.seq)
            .limit(limit)
        )
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [_to_entity(row) for row in rows]

    async def last(self, conversation_id: ConversationId) -> StoredEvent | None:
        query = (
            select(ConversationEventRow)
            .where(
                ConversationEventRow.conversation_id == conversation_id,
                ConversationEventRow.source != SERVER_SOURCE,
            )
            .order_by(ConversationEventRow.seq.desc())
            .limit(1)
        )
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else _to_entity(row)
