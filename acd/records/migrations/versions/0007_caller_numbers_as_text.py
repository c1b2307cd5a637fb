"""Caller numbers as text: whatever the caller's network presents is kept whole.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 00:00:00

Caller numbers were VARCHAR(64). Asterisk passes on whatever the caller's network presents (a
SIP URI's user part has no length limit), and PostgreSQL refused a longer one: the writer then
skipped the whole record, so the call went missing from the records (SQLite, which checks no
lengths, kept it). Clipping instead would store a number that is not the caller's and dial a
wrong callback. TEXT has no length to outgrow, and PostgreSQL stores TEXT and VARCHAR alike; the
upstream caps (the AMI frame and AGI header limits) bound what can arrive.

On SQLite the type change rebuilds each table (batch mode), copying its rows and indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALLER_COLUMNS = (
    ("calls", "caller"),
    ("callbacks", "caller"),
    ("messages", "caller"),
    ("recordings", "caller"),
    ("callback_attempts", "number"),
)


def upgrade() -> None:
    for table, column in CALLER_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.Text(), existing_type=sa.String(length=64), existing_nullable=False
            )


def downgrade() -> None:
    # Back to 64 characters: longer numbers are cut, as the old schema could not hold them.
    for table, column in CALLER_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                type_=sa.String(length=64),
                existing_type=sa.Text(),
                existing_nullable=False,
                postgresql_using=f"left({column}, 64)",
            )
