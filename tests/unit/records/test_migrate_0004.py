"""Migration 0004: call timelines, rule firings, callback attempts and case notes, added
without touching what 0003 left."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.pool import NullPool

from acd.records.migrate import MIGRATIONS_DIR, alembic_config, upgrade
from acd.records.models import make_engine

NEW_TABLES = {"call_events", "rule_firings", "callback_attempts", "call_notes"}


def _schema(url: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        engine = make_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:

                def look(sync: Any) -> dict[str, Any]:
                    found = inspect(sync)
                    return {
                        name: {
                            "columns": [c["name"] for c in found.get_columns(name)],
                            "indexes": {i["name"] for i in found.get_indexes(name)},
                        }
                        for name in found.get_table_names()
                    }

                schema: dict[str, Any] = await conn.run_sync(look)
                version = await conn.execute(text("SELECT version_num FROM alembic_version"))
                schema["version"] = version.scalar_one()
                return schema
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _insert_call(url: str) -> None:
    async def write() -> None:
        engine = make_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO calls (call_id, caller, hotline, queue, entered_at,"
                        " disposition, offers, updated_at) VALUES ('c1', '0611', 'home',"
                        " 'general', CURRENT_TIMESTAMP, 'answered', 1, CURRENT_TIMESTAMP)"
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(write())


def _count_calls(url: str) -> int:
    async def read() -> int:
        engine = make_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM calls"))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_upgrade_from_0003_adds_the_tables_and_keeps_the_rows(blank_db_url: str) -> None:
    upgrade(blank_db_url, "0003")
    _insert_call(blank_db_url)
    upgrade(blank_db_url, "0004")
    schema = _schema(blank_db_url)
    assert schema["version"] == "0004"
    assert set(schema) >= NEW_TABLES
    assert _count_calls(blank_db_url) == 1
    assert schema["call_events"]["columns"] == [
        "id",
        "call_id",
        "at",
        "kind",
        "queue",
        "agent",
        "data",
    ]
    assert schema["call_events"]["indexes"] == {"ix_call_events_call_id", "ix_call_events_at"}
    assert schema["call_notes"]["columns"] == [
        "id",
        "call_id",
        "agent",
        "kind",
        "need",
        "address",
        "contact",
        "text",
        "at",
    ]
    assert "retry_at" in schema["callback_attempts"]["columns"]
    assert schema["rule_firings"]["indexes"] == {"ix_rule_firings_at"}


def test_downgrade_to_0003_drops_only_the_new_tables(blank_db_url: str) -> None:
    upgrade(blank_db_url, "0004")
    _insert_call(blank_db_url)
    command.downgrade(alembic_config(blank_db_url), "0003")
    schema = _schema(blank_db_url)
    assert schema["version"] == "0003"
    assert not NEW_TABLES & set(schema)
    assert {"calls", "reviews", "recordings"} <= set(schema)
    assert _count_calls(blank_db_url) == 1
    upgrade(blank_db_url, "0004")  # and up again
    assert set(_schema(blank_db_url)) >= NEW_TABLES


def test_0004_renders_for_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    config = alembic_config("postgresql+asyncpg://acd@localhost/acd")
    command.upgrade(config, "0003:0004", sql=True)
    command.downgrade(config, "0004:0003", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE call_events (" in sql
    assert "id BIGSERIAL NOT NULL" in sql
    assert "at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
    assert "data TEXT DEFAULT '{}' NOT NULL" in sql
    assert "DROP TABLE call_notes" in sql and "DROP TABLE call_events" in sql


def test_0004_ships_in_the_package() -> None:
    assert len(list((MIGRATIONS_DIR / "versions").glob("0004_*.py"))) == 1
