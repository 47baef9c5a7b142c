"""Payments through Stripe: each organization's customer there, the credits it set out to buy,
and its plan subscription as the newest event told.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        name=f"fk_{table}_org_id_organizations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "billing_customers",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        _org_fk("billing_customers"),
        sa.PrimaryKeyConstraint("org_id", name="pk_billing_customers"),
        sa.UniqueConstraint("customer_id", name="uq_billing_customers_customer_id"),
    )
    op.create_table(
        "purchases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("checkout_session_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("paid_at", DateTimeUTC(), nullable=True),
        _org_fk("purchases"),
        sa.PrimaryKeyConstraint("id", name="pk_purchases"),
        sa.UniqueConstraint("checkout_session_id", name="uq_purchases_checkout_session_id"),
    )
    op.create_index("ix_purchases_org_id_created_at", "purchases", ["org_id", "created_at"])
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("price_id", sa.String(200), nullable=True),
        sa.Column("current_period_end", DateTimeUTC(), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("last_event_created", DateTimeUTC(), nullable=False),
        _org_fk("subscriptions"),
        sa.PrimaryKeyConstraint("subscription_id", name="pk_subscriptions"),
    )
    op.create_index("ix_subscriptions_org_id", "subscriptions", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_org_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_purchases_org_id_created_at", table_name="purchases")
    op.drop_table("purchases")
    op.drop_table("billing_customers")
