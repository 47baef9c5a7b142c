"""Personal organizations and API keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC, JsonB
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("personal_owner_id", sa.Uuid(), nullable=True))
        batch.create_unique_constraint("uq_organizations_personal_owner_id", ["personal_owner_id"])
        batch.create_foreign_key(
            "fk_organizations_personal_owner_id_users",
            "users",
            ["personal_owner_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("lookup", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", JsonB, nullable=False),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("expires_at", DateTimeUTC(), nullable=True),
        sa.Column("revoked_at", DateTimeUTC(), nullable=True),
        sa.Column("last_used_at", DateTimeUTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_api_keys_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("lookup", name="uq_api_keys_lookup"),
    )
    op.create_index("ix_api_keys_user_id_org_id", "api_keys", ["user_id", "org_id"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_user_id_org_id", table_name="api_keys")
    op.drop_table("api_keys")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint("fk_organizations_personal_owner_id_users", type_="foreignkey")
        batch.drop_constraint("uq_organizations_personal_owner_id", type_="unique")
        batch.drop_column("personal_owner_id")
