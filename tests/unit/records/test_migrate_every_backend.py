"""Every shipped migration runs, up and down, on SQLite and on PostgreSQL.

The migrations are written once for both backends; the SQLite-only checks of what they store
byte for byte stay in test_migrate.py and test_migrate_0003.py. Revisions are read from the
scripts, so a new migration is covered here the day it lands.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, bindparam, inspect, text
from sqlalchemy.pool import NullPool

from acd.records.migrate import alembic_config, upgrade_async
from acd.records.models import UTCDateTime, make_engine, metadata
from tests.unit.records.reading import rows, scalars

AT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def _revisions() -> list[str]:
    """Oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def _downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def _inspect(url: str, look: Any) -> Any:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def _model_diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _tables(url: str) -> set[str]:
    return set(await _inspect(url, lambda conn: inspect(conn).get_table_names()))


async def _version(url: str) -> list[str]:
    return await scalars(url, text("SELECT version_num FROM alembic_version"))


async def test_head_matches_the_models(db_url: str) -> None:
    assert await _inspect(db_url, _model_diff) == []
    assert await _version(db_url) == [_revisions()[-1]]
    assert set(metadata.tables) | {"alembic_version"} == await _tables(db_url)


async def test_upgrade_again_is_harmless(db_url: str) -> None:
    await upgrade_async(db_url)
    assert await _inspect(db_url, _model_diff) == []


async def test_each_migration_goes_up_and_down_one_step_at_a_time(blank_db_url: str) -> None:
    url = blank_db_url
    revisions = _revisions()
    for revision in revisions:
        await upgrade_async(url, revision)
        assert await _version(url) == [revision]
    assert await _inspect(url, _model_diff) == []
    for previous in reversed(["base", *revisions[:-1]]):
        await _downgrade(url, previous)
        assert await _version(url) == ([] if previous == "base" else [previous])
    assert await _tables(url) == {"alembic_version"}
    await upgrade_async(url)  # and up again from nothing, in one go
    assert await _inspect(url, _model_diff) == []


async def test_rows_written_under_0001_survive_every_later_migration(blank_db_url: str) -> None:
    url = blank_db_url
    await upgrade_async(url, "0001")
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO calls (call_id, caller, hotline, queue, agent, entered_at,"
                    " disposition, offers, updated_at) VALUES ('c1', '0611', '1900', 'sales',"
                    " '2001', :at, 'answered', 1, :at)"
                ).bindparams(bindparam("at", type_=UTCDateTime())),
                {"at": AT},
            )
            await conn.execute(
                text(
                    "INSERT INTO agent_states (agent, old_state, new_state, at)"
                    " VALUES ('1001', 'ready', 'paused', :at)"
                ).bindparams(bindparam("at", type_=UTCDateTime())),
                {"at": AT},
            )
    finally:
        await engine.dispose()
    await upgrade_async(url)

    (call,) = await rows(url, text("SELECT * FROM calls"))
    assert (call.call_id, call.agent, call.disposition, call.offers) == (
        "c1",
        "2001",
        "answered",
        1,
    )
    assert call.dissatisfied in (False, 0)  # filled by the server default of 0002
    assert (call.survey_score, call.ivr_path) == (None, None)
    (state,) = await rows(url, text("SELECT agent, old_state, new_state FROM agent_states"))
    assert tuple(state) == ("1001", "ready", "paused")


async def test_server_defaults_serve_other_writers(db_url: str) -> None:
    """Rows inserted without the writer (by hand, by a later dialer) still get the defaults."""
    engine = make_engine(db_url, poolclass=NullPool)
    at = bindparam("at", type_=UTCDateTime())
    try:
        async with engine.begin() as conn:
            for _ in range(2):
                await conn.execute(
                    text(
                        "INSERT INTO callbacks (call_id, caller, hotline, queue, kind,"
                        " requested_at, due_at, updated_at) VALUES ('c1', '0611', '1900',"
                        " 'sales', 'callback', :at, :at, :at)"
                    ).bindparams(at),
                    {"at": AT},
                )
            await conn.execute(
                text(
                    "INSERT INTO recordings (call_id, agent, caller, queue, path, started_at,"
                    " talk_seconds, seconds, size, format, sha256, status) VALUES ('c1', '2001',"
                    " '0611', 'sales', '/x.wav', :at, 1.0, 1.0, 10, 'wav', '', 'ok')"
                ).bindparams(at),
                {"at": AT},
            )
    finally:
        await engine.dispose()
    callbacks = await rows(db_url, text("SELECT id, status, attempts FROM callbacks ORDER BY id"))
    assert [tuple(r) for r in callbacks] == [(1, "pending", 0), (2, "pending", 0)]
    assert await scalars(db_url, text("SELECT pauses FROM recordings")) == ["[]"]
