"""Conversations, their events numbered per conversation, and their callbacks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC, JsonB
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _conversation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["conversation_id"],
        ["conversations.id"],
        name=f"fk_{table}_conversation_id_conversations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("repository", sa.String(255), nullable=True),
        sa.Column("branch", sa.String(255), nullable=True),
        sa.Column("git_provider", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("cost_usd", sa.Double(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("active_seconds", sa.Double(), nullable=False),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_conversations_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_conversations_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_org_id_user_id", "conversations", ["org_id", "user_id"])
    op.create_index("ix_conversations_status", "conversations", ["status"])
    op.create_table(
        "conversation_event_heads",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        _conversation_fk("conversation_event_heads"),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversation_event_heads"),
    )
    op.create_table(
        "conversation_events",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(255), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("occurred_at", DateTimeUTC(), nullable=False),
        sa.Column("payload", JsonB, nullable=False),
        _conversation_fk("conversation_events"),
        sa.PrimaryKeyConstraint("conversation_id", "seq", name="pk_conversation_events"),
        sa.UniqueConstraint(
            "conversation_id", "event_id", name="uq_conversation_events_conversation_id_event_id"
        ),
    )
    op.create_table(
        "conversation_callbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("processor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", JsonB, nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        _conversation_fk("conversation_callbacks"),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_callbacks"),
    )
    op.create_index(
        "ix_conversation_callbacks_conversation_id", "conversation_callbacks", ["conversation_id"]
    )


def downgrade() -> None:
    op.drop_table("conversation_callbacks")
    op.drop_table("conversation_events")
    op.drop_table("conversation_event_heads")
    op.drop_index("ix_conversations_status", table_name="conversations")
    op.drop_index("ix_conversations_org_id_user_id", table_name="conversations")
    op.drop_table("conversations")
