"""The repositories the resolver is enabled on at GitLab and Bitbucket Cloud, each with its
webhook's secret (sealed), and each organization's resolver settings.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repository_hooks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("web_url", sa.String(255), nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("repository_key", sa.String(255), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("enabled_by", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("managed", sa.Boolean(), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("hook_id", sa.String(64), nullable=True),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_repository_hooks_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enabled_by"],
            ["users.id"],
            name="fk_repository_hooks_enabled_by_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_repository_hooks"),
        sa.UniqueConstraint(
            "provider",
            "web_url",
            "repository_key",
            name="uq_repository_hooks_provider_web_url_repository_key",
        ),
    )
    op.create_index("ix_repository_hooks_org_id", "repository_hooks", ["org_id"])
    op.create_index(
        "ix_repository_hooks_provider_repository_key",
        "repository_hooks",
        ["provider", "repository_key"],
    )
    op.create_table(
        "resolver_settings",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("handle", sa.String(101), nullable=True),
        sa.Column("max_runs_per_repository", sa.Integer(), nullable=True),
        sa.Column("updated_at", DateTimeUTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_resolver_settings_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_resolver_settings"),
    )


def downgrade() -> None:
    op.drop_table("resolver_settings")
    op.drop_index("ix_repository_hooks_provider_repository_key", table_name="repository_hooks")
    op.drop_index("ix_repository_hooks_org_id", table_name="repository_hooks")
    op.drop_table("repository_hooks")
