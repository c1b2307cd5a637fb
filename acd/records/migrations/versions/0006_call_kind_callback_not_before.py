"""Calls carry their kind (inbound or a callback kind); callbacks carry when to dial next.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 00:00:00

`callbacks.due_at` is a promise ("within 5 working days"), a deadline; the dialer needs the
opposite bound too, the earliest time a retry may be dialled (`not_before`, NULL: as soon as
the hotline is open). Both columns are added with server defaults, so existing rows stay valid
(SQLite adds them without copying the table).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "calls",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="inbound"),
    )
    op.add_column("callbacks", sa.Column("not_before", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("not_before")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("kind")
