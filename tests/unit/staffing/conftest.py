"""Staffing tests read calls from the same migrated databases the records tests use (SQLite
and PostgreSQL: `db_url` is parametrized by `backend`)."""

from tests.unit.records.conftest import backend, db_url

__all__ = ["backend", "db_url"]
