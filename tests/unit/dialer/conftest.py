from tests.unit.records.conftest import backend, db_url  # noqa: F401
