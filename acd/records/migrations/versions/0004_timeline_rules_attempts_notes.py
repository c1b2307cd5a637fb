"""Call timelines, rule firings, callback attempts and case notes.

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01 00:00:00

Types are spelled out here rather than imported from the models (see 0001). Only new tables:
nothing existing is altered, so on SQLite no table is copied and every row already there stays
as it is; the same statements run on PostgreSQL. Histories that only grow get a BIGINT key on
PostgreSQL (INTEGER on SQLite, which only autoincrements an INTEGER PRIMARY KEY), as
`agent_states` has.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _history_id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "call_events",
        _history_id(),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_events"),
    )
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])
    op.create_index("ix_call_events_at", "call_events", ["at"])

    op.create_table(
        "rule_firings",
        _history_id(),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("metrics", sa.Text(), server_default="{}", nullable=False),
        sa.Column("actions", sa.Text(), server_default="[]", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_firings"),
    )
    op.create_index("ix_rule_firings_at", "rule_firings", ["at"])

    op.create_table(
        "callback_attempts",
        _history_id(),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_callback_attempts"),
    )
    op.create_index("ix_callback_attempts_callback_id", "callback_attempts", ["callback_id"])
    op.create_index("ix_callback_attempts_call_id", "callback_attempts", ["call_id"])

    op.create_table(
        "call_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="note", nullable=False),
        sa.Column("need", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_notes"),
    )
    op.create_index("ix_call_notes_call_id", "call_notes", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_notes_call_id", table_name="call_notes")
    op.drop_table("call_notes")
    op.drop_index("ix_callback_attempts_call_id", table_name="callback_attempts")
    op.drop_index("ix_callback_attempts_callback_id", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_rule_firings_at", table_name="rule_firings")
    op.drop_table("rule_firings")
    op.drop_index("ix_call_events_at", table_name="call_events")
    op.drop_index("ix_call_events_call_id", table_name="call_events")
    op.drop_table("call_events")
