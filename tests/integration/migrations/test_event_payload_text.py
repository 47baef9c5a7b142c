"""Revision 0010 keeps the events stored before it: a payload written as JSONB (PostgreSQL) or
JSON (SQLite) reads back the same as JSON text, and going back turns only NULs (which JSONB
cannot hold) into U+FFFD."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, Uuid, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.migrator import downgrade_to, upgrade_to
from adapters.sqlalchemy.models import ConversationEventRow

BEFORE = {
    "id": "e1",
    "kind": "ObservationEvent",
    "observation": {"content": [{"type": "text", "text": "café 日本 \\u0000 is text"}]},
    "n": [1, 2.5, True, None],
}


async def _insert_at_0009(engine: AsyncEngine, payload: dict[str, Any]) -> uuid.UUID:
    """A user, org, conversation and one event, written with the 0009 column type."""
    user, org, conversation = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    events = Table(
        "conversation_events",
        MetaData(),
        Column("conversation_id", Uuid()),
        Column("seq"),
        Column("event_id", String()),
        Column("kind", String()),
        Column("source", String()),
        Column("type", String()),
        Column("occurred_at"),
        Column("payload", JSON().with_variant(JSONB(), "postgresql")),
    )
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, subject, email, email_verified, display_name, created_at)"
                " VALUES (:id, 's', 'a@example.com', true, 'A', :now)"
            ),
            {"id": user.hex if engine.dialect.name == "sqlite" else user, "now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO organizations (id, name, slug, created_by, created_at)"
                " VALUES (:id, 'O', 'o', :user, :now)"
            ),
            {
                "id": org.hex if engine.dialect.name == "sqlite" else org,
                "user": user.hex if engine.dialect.name == "sqlite" else user,
                "now": now,
            },
        )
        await connection.execute(
            text(
                "INSERT INTO conversations (id, org_id, user_id, status, cost_usd, prompt_tokens,"
                " completion_tokens, active_seconds, created_at, updated_at)"
                " VALUES (:id, :org, :user, 'running', 0, 0, 0, 0, :now, :now)"
            ),
            {
                "id": conversation.hex if engine.dialect.name == "sqlite" else conversation,
                "org": org.hex if engine.dialect.name == "sqlite" else org,
                "user": user.hex if engine.dialect.name == "sqlite" else user,
                "now": now,
            },
        )
        await connection.execute(
            insert(events).values(
                conversation_id=conversation,
                seq=1,
                event_id="e1",
                kind="ObservationEvent",
                source="environment",
                type="observation",
                occurred_at=now,
                payload=payload,
            )
        )
    return conversation


async def _payload(engine: AsyncEngine) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(select(ConversationEventRow.payload))).scalar_one()


async def test_events_stored_before_read_back_the_same_after(engine: AsyncEngine) -> None:
    await upgrade_to(engine, "0009")
    await _insert_at_0009(engine, BEFORE)

    await upgrade_to(engine, "0010")

    assert await _payload(engine) == BEFORE


async def test_going_back_keeps_every_event_with_its_nuls_replaced(engine: AsyncEngine) -> None:
    await upgrade_to(engine, "0009")
    await _insert_at_0009(engine, BEFORE)
    await upgrade_to(engine, "0010")
    async with engine.begin() as connection:
        await connection.execute(
            update(ConversationEventRow).values(
                payload={**BEFORE, "nul": "a\x00\x00b", "after_a_backslash": "\\\x00"}
            )
        )

    await downgrade_to(engine, "0009")

    async with engine.connect() as connection:
        found = (await connection.execute(text("SELECT payload FROM conversation_events"))).one()
    stored = json.loads(found[0]) if isinstance(found[0], str) else found[0]
    if engine.dialect.name == "postgresql":
        assert stored == {**BEFORE, "nul": "a\ufffd\ufffdb", "after_a_backslash": "\\\ufffd"}
    else:
        assert stored == {**BEFORE, "nul": "a\x00\x00b", "after_a_backslash": "\\\x00"}
