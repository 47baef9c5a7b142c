"""Usage per report of each conversation, who pays a conversation's LLM, conversations held
until their organization's balance is topped up, and the monthly cap an organization sets on
what each member may spend of it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("billed", sa.Boolean(), nullable=False),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_usage_records_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
        sa.UniqueConstraint(
            "conversation_id", "report_id", name="uq_usage_records_conversation_id_report_id"
        ),
    )
    op.create_index("ix_usage_records_org_id_day", "usage_records", ["org_id", "day"])
    op.create_index(
        "ix_usage_records_org_id_user_id_created_at",
        "usage_records",
        ["org_id", "user_id", "created_at"],
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("llm_payer", sa.String(8), nullable=True))
        batch.add_column(sa.Column("billing_hold", sa.String(16), nullable=True))
    with op.batch_alter_table("billing_accounts") as batch:
        batch.add_column(sa.Column("member_monthly_cap_micros", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_accounts") as batch:
        batch.drop_column("member_monthly_cap_micros")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("billing_hold")
        batch.drop_column("llm_payer")
    op.drop_index("ix_usage_records_org_id_user_id_created_at", table_name="usage_records")
    op.drop_index("ix_usage_records_org_id_day", table_name="usage_records")
    op.drop_table("usage_records")
