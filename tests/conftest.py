"""Fixtures shared by every test package."""

# The session's throwaway PostgreSQL server (`pg_server`, `pg_template`).
pytest_plugins = ["tests.pg_server"]
