"""The resolver: the git provider app's installations (with their sealed tokens), the issues and
pull requests the agent answers, the provider accounts users proved theirs, and where each
conversation was started from.

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_installations",
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("installation_id", sa.String(40), nullable=False),
        sa.Column("account_login", sa.String(255), nullable=False),
        sa.Column("account_type", sa.String(32), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("repositories", sa.Text(), nullable=False),
        sa.Column("all_repositories", sa.Boolean(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("token_expires_at", DateTimeUTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_app_installations_org_id_organizations",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("provider", "installation_id", name="pk_app_installations"),
    )
    op.create_index("ix_app_installations_org_id", "app_installations", ["org_id"])
    op.create_table(
        "resolver_threads",
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("repository_name", sa.String(255), nullable=False),
        sa.Column("is_pull_request", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("installation_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("last_trigger", sa.String(255), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("summaries_posted", sa.Integer(), nullable=False),
        sa.Column("pull_requests", sa.Text(), nullable=True),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_resolver_threads_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_resolver_threads_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_resolver_threads_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider", "repository", "number", name="pk_resolver_threads"),
        sa.UniqueConstraint("conversation_id", name="uq_resolver_threads_conversation_id"),
    )
    op.create_table(
        "git_identities",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("login", sa.String(255), nullable=False),
        sa.Column("linked_at", DateTimeUTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_git_identities_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "provider", name="pk_git_identities"),
        sa.UniqueConstraint("provider", "account_id", name="uq_git_identities_provider_account_id"),
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("trigger", sa.String(16), nullable=False, server_default="web"))
        batch.add_column(sa.Column("origin_url", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("pull_requests", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("pull_requests")
        batch.drop_column("origin_url")
        batch.drop_column("trigger")
    op.drop_table("git_identities")
    op.drop_table("resolver_threads")
    op.drop_index("ix_app_installations_org_id", table_name="app_installations")
    op.drop_table("app_installations")
