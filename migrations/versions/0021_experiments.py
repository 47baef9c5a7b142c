"""Experiments: the variant of each experiment a conversation runs with, one per
(conversation, experiment).

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_experiments",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("experiment", sa.String(100), nullable=False),
        sa.Column("variant", sa.String(100), nullable=False),
        sa.Column("assigned_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_experiments_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "experiment", name="pk_conversation_experiments"
        ),
    )


def downgrade() -> None:
    op.drop_table("conversation_experiments")
