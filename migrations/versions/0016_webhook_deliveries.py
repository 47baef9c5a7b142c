"""The webhook inbox: every provider delivery accepted, once per source and delivery id.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(200), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", DateTimeUTC(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(200), nullable=True),
        sa.Column("processed_at", DateTimeUTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_webhook_deliveries_source_delivery"),
    )
    op.create_index(
        "ix_webhook_deliveries_status_received_at",
        "webhook_deliveries",
        ["status", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_status_received_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
