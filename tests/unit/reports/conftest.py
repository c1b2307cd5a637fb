"""Reports read the records database: the same migrated databases as the records tests, on
SQLite and PostgreSQL (`db_url` needs the `backend` it is parametrized by)."""

from tests.unit.records.conftest import backend, db_url  # noqa: F401
