from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import WebhookDeliveryRow
from application.ports.webhook_inbox import WebhookInbox
from domain.webhooks.entities import DeliveryStatus, WebhookDelivery, WebhookDeliveryId

__all__ = ("SqlaWebhookInbox",)


def _delivery(row: WebhookDeliveryRow) -> WebhookDelivery:
    return WebhookDelivery(
        id_=WebhookDeliveryId(row.id),
        source=row.source,
        delivery_id=row.delivery_id,
        event=row.event,
        body=row.body,
        received_at=row.received_at,
        status=DeliveryStatus(row.status),
        outcome=row.outcome,
        processed_at=row.processed_at,
    )


class SqlaWebhookInbox(WebhookInbox):
    """The ``webhook_deliveries`` table; its unique ``(source, delivery_id)`` makes a second
    delivery of one id a no-op, racing or not (``INSERT ... ON CONFLICT DO NOTHING``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, delivery: WebhookDelivery) -> bool:
        statement = (
            dialect_insert(self._session, WebhookDeliveryRow)
            .values(
                id=delivery.id_,
                source=delivery.source,
                delivery_id=delivery.delivery_id,
                event=delivery.event,
                body=delivery.body,
                received_at=delivery.received_at,
                status=delivery.status.value,
                outcome=delivery.outcome,
                processed_at=delivery.processed_at,
            )
            .on_conflict_do_nothing(index_elements=["source", "delivery_id"])
            .returning(WebhookDeliveryRow.id)
        )
        async with translate_db_errors():
            return (await self._session.execute(statement)).first() is not None

    async def get(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery | None:
        async with translate_db_errors():
            row = await self._session.get(WebhookDeliveryRow, delivery_id, populate_existing=True)
        return None if row is None else _delivery(row)

    async def find(self, source: str, delivery_id: str) -> WebhookDelivery | None:
        query = select(WebhookDeliveryRow).where(
            WebhookDeliveryRow.source == source, WebhookDeliveryRow.delivery_id == delivery_id
        )
        async with translate_db_errors():
            row = (await self._session.scalars(query)).first()
        return None if row is None else _delivery(row)

    async def mark_processed(
        self, delivery_id: WebhookDeliveryId, at: datetime, outcome: str
    ) -> bool:
        statement = (
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.id == delivery_id,
                WebhookDeliveryRow.status == DeliveryStatus.RECEIVED.value,
            )
            .values(status=DeliveryStatus.PROCESSED.value, processed_at=at, outcome=outcome[:200])
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            result: Any = await self._session.execute(statement)
        return bool(result.rowcount == 1)

    async def left_received(self, before: datetime, limit: int = 100) -> list[WebhookDelivery]:
        query = (
            select(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.RECEIVED.value,
                WebhookDeliveryRow.received_at < before,
            )
            .order_by(WebhookDeliveryRow.received_at, WebhookDeliveryRow.id)
            .limit(limit)
        )
        async with translate_db_errors():
            return [_delivery(row) for row in (await self._session.scalars(query)).all()]

    async def list(
        self,
        source: str | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
    ) -> list[WebhookDelivery]:
        query = (
            select(WebhookDeliveryRow)
            .order_by(WebhookDeliveryRow.received_at.desc(), WebhookDeliveryRow.id.desc())
            .limit(limit)
        )
        if source is not None:
            query = query.where(WebhookDeliveryRow.source == source)
        if status is not None:
            query = query.where(WebhookDeliveryRow.status == status.value)
        async with translate_db_errors():
            return [_delivery(row) for row in (await self._session.scalars(query)).all()]
