"""Call recordings (with QA scores and retention) and the team lead's review queue.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01 00:00:00

Types are spelled out here rather than imported from the models (see 0001). Only new tables:
nothing existing is altered, so on SQLite no table is copied and every row already there stays
as it is; the same statements run on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("talk_seconds", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pauses", sa.Text(), server_default="[]", nullable=False),
        sa.Column("qa_score", sa.Integer(), nullable=True),
        sa.Column("qa_comment", sa.Text(), nullable=True),
        sa.Column("qa_reviewer", sa.String(length=64), nullable=True),
        sa.Column("qa_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])
    op.create_index("ix_recordings_agent", "recordings", ["agent"])
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
    )
    op.create_index("ix_reviews_call_id", "reviews", ["call_id"])
    op.create_index("ix_reviews_due_at", "reviews", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_reviews_due_at", table_name="reviews")
    op.drop_index("ix_reviews_call_id", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_recordings_started_at", table_name="recordings")
    op.drop_index("ix_recordings_agent", table_name="recordings")
    op.drop_index("ix_recordings_call_id", table_name="recordings")
    op.drop_table("recordings")
