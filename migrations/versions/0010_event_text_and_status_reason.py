"""Event payloads as JSON text, so an event keeps whatever its tools printed (NULs included),
and the reason a conversation stands in ``error``.

JSONB refuses the NUL character (``\\u0000``), so on PostgreSQL one such event stopped every
later event of its conversation from being stored. The text column takes the JSON as written;
SQLite already kept the payload as JSON text.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_WITHOUT_NUL = r"regexp_replace(payload, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\ufffd', 'g')::jsonb"
"""The payload as JSONB, each escaped NUL (after an even run of backslashes) made U+FFFD."""


def upgrade() -> None:
    op.add_column("conversations", sa.Column("status_reason", sa.String(500), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "conversation_events",
            "payload",
            type_=sa.Text(),
            existing_type=JSONB(),
            existing_nullable=False,
            postgresql_using="payload::text",
        )
    else:
        with op.batch_alter_table("conversation_events") as batch:
            batch.alter_column(
                "payload", type_=sa.Text(), existing_type=sa.JSON(), existing_nullable=False
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # JSONB cannot hold a NUL: going back turns each one (an unescaped \u0000 in the
        # JSON text) into U+FFFD, and leaves a literal backslash-u0000 as it is.
        op.alter_column(
            "conversation_events",
            "payload",
            type_=JSONB(),
            existing_type=sa.Text(),
            existing_nullable=False,
            postgresql_using=_WITHOUT_NUL,
        )
    else:
        with op.batch_alter_table("conversation_events") as batch:
            batch.alter_column(
                "payload", type_=sa.JSON(), existing_type=sa.Text(), existing_nullable=False
            )
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would drop the old conversations table,
    # and with it, by cascade, every event, head and callback.
    op.drop_column("conversations", "status_reason")
