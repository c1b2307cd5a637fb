"""`acd db upgrade`: the records database brought to the latest schema (Alembic)."""

from __future__ import annotations

import argparse

from acd.cli.common import Subcommands, add_command, database_url


def register(sub: Subcommands) -> None:
    p = add_command(sub, "db", "Database maintenance.", cmd_db)
    p.add_argument("action", choices=["upgrade"])


def cmd_db(args: argparse.Namespace) -> int:
    from acd.records.migrate import upgrade

    upgrade(database_url(args))
    print("database is at the latest schema")
    return 0
