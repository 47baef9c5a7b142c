"""Background jobs: the queue every server's workers take from, with its dead letter, and the
next tick of each scheduled job.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC, JsonB
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("payload", JsonB, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("timeout_ms", sa.BigInteger(), nullable=False),
        sa.Column("backoff_ms", sa.BigInteger(), nullable=False),
        sa.Column("max_backoff_ms", sa.BigInteger(), nullable=False),
        sa.Column("run_at", DateTimeUTC(), nullable=False),
        sa.Column("locked_until", DateTimeUTC(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", DateTimeUTC(), nullable=False),
        sa.Column("finished_at", DateTimeUTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    )
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"])
    op.create_index("ix_jobs_status_locked_until", "jobs", ["status", "locked_until"])
    op.create_index("ix_jobs_status_finished_at", "jobs", ["status", "finished_at"])
    op.create_table(
        "job_schedules",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("next_run_at", DateTimeUTC(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_job_schedules"),
    )


def downgrade() -> None:
    op.drop_table("job_schedules")
    op.drop_index("ix_jobs_status_finished_at", table_name="jobs")
    op.drop_index("ix_jobs_status_locked_until", table_name="jobs")
    op.drop_index("ix_jobs_status_run_at", table_name="jobs")
    op.drop_table("jobs")
