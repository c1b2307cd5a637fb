"""Bring a records database up to the current schema from code, without an alembic.ini.

The engine runs from an installed package and must be able to migrate its own database at
start-up, so the Alembic configuration is built here and points at the migrations shipped
inside the package.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from acd.records.models import ensure_sqlite_dir

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """The Alembic configuration for the records schema, for `alembic.command` calls."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Not set_main_option("sqlalchemy.url"): ConfigParser would read "%" in a password as
    # interpolation. env.py picks these attributes up instead.
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`.

    Synchronous and runs its own event loop (the async env.py uses asyncio.run), so it must
    not be called from inside a running loop; use `upgrade_async` there.
    """
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """`upgrade` for callers already inside an event loop: it needs a loop of its own."""
    await asyncio.to_thread(upgrade, url, revision)
