"""The shipped migrations must produce exactly the schema the models describe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, create_engine

from acd.records.migrate import MIGRATIONS_DIR, alembic_config, upgrade, upgrade_async
from acd.records.models import metadata

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


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
    assert schema["table"] == {
        "alembic_version",
        "calls",
        "agent_states",
        "callbacks",
        "messages",
        "recordings",
        "reviews",
        "call_events",
        "rule_firings",
        "callback_attempts",
        "call_notes",
        "web_users",
    }
    assert schema["index"] == {
        "ix_calls_entered_at",
        "ix_calls_agent",
        "ix_agent_states_agent_at",
        "ix_callbacks_call_id",
        "ix_callbacks_status_due_at",
        "ix_messages_call_id",
        "ix_messages_created_at",
        "ix_recordings_call_id",
        "ix_recordings_agent",
        "ix_recordings_started_at",
        "ix_reviews_call_id",
        "ix_reviews_due_at",
        "ix_call_events_call_id",
        "ix_call_events_at",
        "ix_rule_firings_at",
        "ix_callback_attempts_callback_id",
        "ix_callback_attempts_call_id",
        "ix_call_notes_call_id",
    }
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
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
    assert len(list((MIGRATIONS_DIR / "versions").glob("0002_*.py"))) == 1


# A database as 0001 left it, with rows that 0002 must keep.
_CALL_0001 = (
    "c1",
    "0611",
    "1900",
    "sales",
    "2001",
    "2023-11-14 22:13:20.000000",
    "2023-11-14 22:13:30.000000",
    "2023-11-14 22:14:00.000000",
    10.0,
    30.0,
    "answered",
    "caller",
    1,
    "2023-11-14 22:14:00.000000",
)
_STATE_0001 = (1, "1001", "ready", "paused", "break", "2023-11-14 22:13:20.000000")


def _seed_0001(db: Path) -> None:
    upgrade(_url(db), "0001")
    with sqlite3.connect(db) as conn:
        conn.execute(f"INSERT INTO calls VALUES ({', '.join('?' * len(_CALL_0001))})", _CALL_0001)
        conn.execute("INSERT INTO agent_states VALUES (?, ?, ?, ?, ?, ?)", _STATE_0001)


def test_upgrade_from_0001_keeps_existing_rows(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    _seed_0001(db)
    upgrade(_url(db))
    assert _diff(db) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        (row,) = conn.execute("SELECT * FROM calls").fetchall()
        # The old columns untouched; the new ones empty, dissatisfied and kind by their defaults.
        assert row == (*_CALL_0001, None, None, 0, None, "inbound")
        assert conn.execute("SELECT * FROM agent_states").fetchall() == [_STATE_0001]
        assert conn.execute("SELECT count(*) FROM callbacks").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (0,)
        # The calls indexes survive too.
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(calls)")}
        assert {"ix_calls_entered_at", "ix_calls_agent"} <= indexes


def test_server_defaults_serve_other_writers(tmp_path: Path) -> None:
    """Rows inserted without the writer (by hand, by a later dialer) still get the defaults."""
    db = tmp_path / "records.db"
    upgrade(_url(db))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO calls (call_id, caller, hotline, queue, entered_at, disposition,"
            " offers, updated_at) VALUES ('c1', '', '', '', '2023-11-14', 'ivr', 0, '2023-11-14')"
        )
        conn.execute(
            "INSERT INTO callbacks (call_id, caller, hotline, queue, kind, requested_at, due_at,"
            " updated_at) VALUES ('c1', '0611', '1900', 'sales', 'callback', '2023-11-14',"
            " '2023-11-14', '2023-11-14')"
        )
        assert conn.execute("SELECT dissatisfied FROM calls").fetchone() == (0,)
        assert conn.execute("SELECT id, status, attempts FROM callbacks").fetchone() == (
            1,
            "pending",
            0,
        )


def test_downgrade_0002_keeps_calls(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    _seed_0001(db)
    upgrade(_url(db))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE calls SET survey_score = 4, survey_scale = 5, ivr_path = '1>2'")
    command.downgrade(alembic_config(_url(db)), "0001")
    assert _schema(db)["table"] == {"alembic_version", "calls", "agent_states"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT * FROM calls").fetchall() == [_CALL_0001]
        assert conn.execute("SELECT * FROM agent_states").fetchall() == [_STATE_0001]
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(calls)")}
        assert {"ix_calls_entered_at", "ix_calls_agent"} <= indexes
    upgrade(_url(db))
    assert _diff(db) == []


def test_0002_renders_for_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    """Offline (--sql) mode: the migration compiles for PostgreSQL without a server."""
    config = alembic_config("postgresql+asyncpg://acd@localhost/acd")
    command.upgrade(config, "0001:0002", sql=True)
    command.downgrade(config, "0002:0001", sql=True)
    sql = capsys.readouterr().out
    assert "ALTER TABLE calls ADD COLUMN dissatisfied BOOLEAN DEFAULT false NOT NULL" in sql
    assert "ALTER TABLE calls ADD COLUMN survey_score INTEGER" in sql
    assert "requested_at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
    assert "CREATE INDEX ix_callbacks_status_due_at ON callbacks (status, due_at)" in sql
    assert "ALTER TABLE calls DROP COLUMN ivr_path" in sql
    assert "_alembic_tmp" not in sql  # no SQLite-style table copy on PostgreSQL
