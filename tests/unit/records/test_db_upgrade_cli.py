"""`acd db upgrade` migrates the database ACD_DATABASE_URL names, on every backend.

In production the URL (with its password) comes from the environment, not from the YAML in
git, so the command must take it from there and leave the YAML's default alone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.pool import NullPool

from acd.cli.main import main
from acd.records.migrate import alembic_config
from acd.records.models import make_engine, metadata
from tests.unit.records.reading import scalars

PROJECT = Path(__file__).resolve().parents[3]


async def _version_and_tables(url: str) -> tuple[list[str], set[str]]:
    version = await scalars(url, text("SELECT version_num FROM alembic_version"))
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return version, set(tables)


# Synchronous: the command runs its own event loop, as it does from a shell.
def test_db_upgrade_uses_the_url_from_the_environment(
    blank_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ACD_DATABASE_URL", blank_db_url)
    monkeypatch.setenv("ACD_STATE_DIR", str(tmp_path / "state"))  # never the shared lab's
    assert main(["db", "upgrade", "--config", str(PROJECT / "dialplans")]) == 0
    assert "latest schema" in capsys.readouterr().out

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    version, tables = asyncio.run(_version_and_tables(blank_db_url))
    assert version == [head]
    assert set(metadata.tables) <= tables
    assert not (tmp_path / "state").exists()  # no SQLite file made on the side
