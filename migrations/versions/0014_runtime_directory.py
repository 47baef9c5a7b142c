"""Where each conversation's agent-server lives, so a server on another node can reach it:
the agent-servers nodes run (their address and sealed session key) and each conversation's.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runtime_hosts",
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("session_key", sa.Text(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        sa.PrimaryKeyConstraint("node", "name", name="pk_runtime_hosts"),
    )
    op.create_table(
        "conversation_placements",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_placements_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversation_placements"),
    )


def downgrade() -> None:
    op.drop_table("conversation_placements")
    op.drop_table("runtime_hosts")
