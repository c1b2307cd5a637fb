"""Records tests run on every backend the engine supports, against the real schema.

`db_url` is parametrized, so a test that takes it runs once on SQLite (the lab) and once on
PostgreSQL (production), each time on an empty database of its own migrated to head.
`blank_db_url` is the same without the migrations, for tests of the migrations themselves and
of a writer that starts before its schema exists. `backend` says which one a test got.

Both backends copy a database migrated once per session rather than migrating for every test:
the copy takes milliseconds, the migrations a good part of a second. Other test packages import
`backend` and `db_url` from here, so these fixtures only depend on fixtures visible everywhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from acd.records.migrate import upgrade
from acd.records.store import Records
from tests.pg_server import PgServer

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"


_sqlite_template: list[Path] = []  # the session's migrated SQLite file, made on first use


def _migrated_sqlite(tmp_path: Path, factory: pytest.TempPathFactory) -> str:
    if not _sqlite_template:
        template = factory.mktemp("sqlite-template")
        upgrade(_sqlite_url(template))
        _sqlite_template.append(template / "records.db")
    url = _sqlite_url(tmp_path)
    # The backup API copies a consistent image whatever state the WAL files are in.
    source = sqlite3.connect(_sqlite_template[0])
    target = sqlite3.connect(tmp_path / "records.db")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return url


def _postgresql_url(request: pytest.FixtureRequest, template: str) -> Iterator[str]:
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database(template)
    yield server.url(name)
    if server.running():  # an outage test that failed may have left it down
        server.drop_database(name)


# Synchronous fixtures: they run migrations and server administration, which need an event
# loop of their own and so must not run inside the test's.


@pytest.fixture
def db_url(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """An empty database migrated to head, on `backend`."""
    if backend == "sqlite":
        yield _migrated_sqlite(tmp_path, tmp_path_factory)
    else:
        yield from _postgresql_url(request, request.getfixturevalue("pg_template"))


@pytest.fixture
def postgresql_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """`db_url` on PostgreSQL only, for what only PostgreSQL has (timestamptz, outages)."""
    yield from _postgresql_url(request, request.getfixturevalue("pg_template"))


@pytest.fixture
def blank_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database without any schema, on `backend`."""
    if backend == "sqlite":
        yield _sqlite_url(tmp_path)
    else:
        yield from _postgresql_url(request, "template1")


@pytest.fixture
async def records(db_url: str) -> AsyncIterator[Records]:
    """A `Records` on `db_url` for the test's reads and case work, closed after it."""
    async with Records(db_url) as records:
        yield records
