"""Settings per user, defaults per organization, and custom secrets; their secrets sealed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _settings_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("llm_model", sa.String(200), nullable=True),
        sa.Column("llm_api_key", sa.Text(), nullable=True),
        sa.Column("llm_base_url", sa.String(2048), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("max_iterations", sa.Integer(), nullable=True),
        sa.Column("confirmation_mode", sa.Boolean(), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("max_budget_per_task", sa.Double(), nullable=True),
        sa.Column("analytics_consent", sa.Boolean(), nullable=True),
        sa.Column("git_author_name", sa.String(100), nullable=True),
        sa.Column("git_author_email", sa.String(254), nullable=True),
        sa.Column("mcp_config", sa.Text(), nullable=True),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        *_settings_columns(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_settings_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_settings"),
    )
    op.create_table(
        "org_settings",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        *_settings_columns(),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_org_settings_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_org_settings"),
    )
    op.create_table(
        "custom_secrets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_custom_secrets_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_custom_secrets"),
        sa.UniqueConstraint("user_id", "name", name="uq_custom_secrets_user_id_name"),
    )


def downgrade() -> None:
    op.drop_table("custom_secrets")
    op.drop_table("org_settings")
    op.drop_table("user_settings")
