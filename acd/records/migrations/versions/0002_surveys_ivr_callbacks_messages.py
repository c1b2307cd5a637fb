"""Survey scores and IVR paths on calls; callback requests and messages.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01 00:00:00

Types are spelled out here rather than imported from the models (see 0001). Columns are added
through `batch_alter_table`: on SQLite an ADD COLUMN runs in place and a DROP COLUMN copies the
table, keeping its rows; on PostgreSQL both are plain ALTER TABLE statements.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("survey_score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("survey_scale", sa.Integer(), nullable=True))
        # The server default fills the rows already there and keeps NOT NULL satisfiable.
        batch.add_column(
            sa.Column("dissatisfied", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("ivr_path", sa.Text(), nullable=True))

    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("hotline", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_callbacks"),
    )
    op.create_index("ix_callbacks_call_id", "callbacks", ["call_id"])
    op.create_index("ix_callbacks_status_due_at", "callbacks", ["status", "due_at"])

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("hotline", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_call_id", "messages", ["call_id"])
    op.create_index("ix_messages_created_at", "messages", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index("ix_messages_call_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_callbacks_status_due_at", table_name="callbacks")
    op.drop_index("ix_callbacks_call_id", table_name="callbacks")
    op.drop_table("callbacks")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("ivr_path")
        batch.drop_column("dissatisfied")
        batch.drop_column("survey_scale")
        batch.drop_column("survey_score")
