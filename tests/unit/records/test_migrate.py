"""The shipped migrations must produce exactly the schema the models describe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, create_engine

from acd.records.migrate import MIGRATIONS_DIR, alembic_config, upgrade, upgrade_async
from acd.records.models import metadata


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _schema(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        out: dict[str, set[str]] = {}
        for kind, name in rows:
            out.setdefault(kind, set()).add(name)
        return out


def _diff(path: Path, target: MetaData = metadata) -> list[object]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def test_upgrade_creates_schema_and_missing_directory(tmp_path: Path) -> None:
    db = tmp_path / "not" / "yet" / "records.db"
    upgrade(_url(db))
    schema = _schema(db)
    assert schema["table"] == {"alembic_version", "calls", "agent_states"}
    assert schema["index"] == {"ix_calls_entered_at", "ix_calls_agent", "ix_agent_states_agent_at"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_upgrade_twice_is_harmless(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    upgrade(_url(db))
    upgrade(_url(db))
    assert "calls" in _schema(db)["table"]


def test_migrated_schema_matches_models(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    upgrade(_url(db))
    assert _diff(db) == []


def test_comparison_would_notice_a_drift(tmp_path: Path) -> None:
    """Guards the test above against comparing nothing."""
    db = tmp_path / "records.db"
    upgrade(_url(db))
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["calls"].append_column(Column("extra", String(5)))
    diff = _diff(db, drifted)
    assert [entry[0] for entry in diff if isinstance(entry, tuple)] == ["add_column"]


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    upgrade(_url(db))
    command.downgrade(alembic_config(_url(db)), "base")
    assert _schema(db)["table"] == {"alembic_version"}
    upgrade(_url(db))
    assert _diff(db) == []


async def test_upgrade_async_from_a_running_loop(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    await upgrade_async(_url(db))
    assert {"calls", "agent_states"} <= _schema(db)["table"]


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
