"""Provider tokens name their host (GitHub Enterprise, self-hosted GitLab) and when their
refresh token ends.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_tokens") as batch:
        batch.add_column(sa.Column("base_url", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("refresh_expires_at", DateTimeUTC(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_provider_tokens_provider"), "provider IN ('github', 'gitlab', 'bitbucket')"
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_tokens") as batch:
        batch.drop_constraint(op.f("ck_provider_tokens_provider"), type_="check")
        batch.drop_column("refresh_expires_at")
        batch.drop_column("base_url")
