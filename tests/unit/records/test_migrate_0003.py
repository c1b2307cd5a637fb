"""Migration 0003: recordings and reviews, added without touching what 0002 left."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from acd.records.migrate import MIGRATIONS_DIR, alembic_config, upgrade
from acd.records.models import RecordingRow, ReviewRow, metadata


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _diff(path: Path) -> list[object]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


_CALL = (
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
    2,
    5,
    1,
    "main:1>sales",
)
_CALLBACK = (
    1,
    "c1",
    "0611",
    "1900",
    "sales",
    "callback",
    "2023-11-14 22:13:20.000000",
    "2023-11-14 23:13:20.000000",
    "pending",
    0,
    "2023-11-14 22:13:20.000000",
)
_MESSAGE = (1, "m1", "0622", "1900", "/msg/m1.wav", 3.5, "2023-11-14 22:13:20.000000")
_STATE = (1, "1001", "ready", "paused", "break", "2023-11-14 22:13:20.000000")


def _seed_0002(db: Path) -> None:
    upgrade(_url(db), "0002")
    with sqlite3.connect(db) as conn:
        conn.execute(f"INSERT INTO calls VALUES ({', '.join('?' * len(_CALL))})", _CALL)
        conn.execute(f"INSERT INTO callbacks VALUES ({', '.join('?' * len(_CALLBACK))})", _CALLBACK)
        conn.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", _MESSAGE)
        conn.execute("INSERT INTO agent_states VALUES (?, ?, ?, ?, ?, ?)", _STATE)


def _kept(conn: sqlite3.Connection) -> None:
    """The rows as they were; columns later migrations add (calls.kind and
    callbacks.not_before in 0006), where present, hold their defaults."""
    (call,) = conn.execute("SELECT * FROM calls").fetchall()
    assert call[: len(_CALL)] == _CALL and call[len(_CALL) :] in ((), ("inbound",))
    (callback,) = conn.execute("SELECT * FROM callbacks").fetchall()
    assert callback[: len(_CALLBACK)] == _CALLBACK and callback[len(_CALLBACK) :] in ((), (None,))
    assert conn.execute("SELECT * FROM messages").fetchall() == [_MESSAGE]
    assert conn.execute("SELECT * FROM agent_states").fetchall() == [_STATE]


def test_upgrade_from_0002_keeps_rows_and_matches_the_models(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    _seed_0002(db)
    upgrade(_url(db))
    assert _diff(db) == []
    with sqlite3.connect(db) as conn:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
        _kept(conn)
        assert conn.execute("SELECT count(*) FROM recordings").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM reviews").fetchone() == (0,)
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(recordings)")}
        assert indexes == {
            "ix_recordings_call_id",
            "ix_recordings_agent",
            "ix_recordings_started_at",
        }
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(reviews)")}
        assert indexes == {"ix_reviews_call_id", "ix_reviews_due_at"}


def test_tables_have_the_columns_asked_for() -> None:
    assert [c.name for c in RecordingRow.__table__.columns] == [
        "id",
        "call_id",
        "agent",
        "caller",
        "queue",
        "path",
        "started_at",
        "talk_seconds",
        "seconds",
        "size",
        "format",
        "sha256",
        "status",
        "pauses",
        "qa_score",
        "qa_comment",
        "qa_reviewer",
        "qa_at",
        "purged_at",
    ]
    nullable = {c.name for c in RecordingRow.__table__.columns if c.nullable}
    assert nullable == {"qa_score", "qa_comment", "qa_reviewer", "qa_at", "purged_at"}
    assert [c.name for c in ReviewRow.__table__.columns] == [
        "id",
        "call_id",
        "agent",
        "reason",
        "created_at",
        "due_at",
        "done_at",
        "note",
        "reviewer",
    ]
    nullable = {c.name for c in ReviewRow.__table__.columns if c.nullable}
    assert nullable == {"agent", "done_at", "note", "reviewer"}


def test_ids_autoincrement_and_pauses_default_for_other_writers(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    upgrade(_url(db))
    with sqlite3.connect(db) as conn:
        for _ in range(2):
            conn.execute(
                "INSERT INTO recordings (call_id, agent, caller, queue, path, started_at,"
                " talk_seconds, seconds, size, format, sha256, status) VALUES ('c1', '2001',"
                " '0611', 'sales', '/x.wav', '2023-11-14', 1.0, 1.0, 10, 'wav', '', 'ok')"
            )
        conn.execute(
            "INSERT INTO reviews (call_id, reason, created_at, due_at)"
            " VALUES ('c1', 'complaint', '2023-11-14', '2023-11-15')"
        )
        assert conn.execute("SELECT id, pauses FROM recordings").fetchall() == [
            (1, "[]"),
            (2, "[]"),
        ]
        assert conn.execute("SELECT id, agent, done_at FROM reviews").fetchone() == (
            1,
            None,
            None,
        )


def test_downgrade_0003_keeps_older_tables(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    _seed_0002(db)
    upgrade(_url(db))
    command.downgrade(alembic_config(_url(db)), "0002")
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "recordings" not in tables and "reviews" not in tables
        _kept(conn)
    upgrade(_url(db))
    assert _diff(db) == []


def test_0003_renders_for_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    config = alembic_config("postgresql+asyncpg://acd@localhost/acd")
    command.upgrade(config, "0002:0003", sql=True)
    command.downgrade(config, "0003:0002", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE recordings (" in sql
    assert "id SERIAL NOT NULL" in sql
    assert "started_at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
    assert "size BIGINT NOT NULL" in sql
    assert "pauses TEXT DEFAULT '[]' NOT NULL" in sql
    assert "CREATE INDEX ix_reviews_due_at ON reviews (due_at)" in sql
    assert "DROP TABLE reviews" in sql and "DROP TABLE recordings" in sql
    assert "_alembic_tmp" not in sql


def test_0003_ships_in_the_package() -> None:
    assert len(list((MIGRATIONS_DIR / "versions").glob("0003_*.py"))) == 1
