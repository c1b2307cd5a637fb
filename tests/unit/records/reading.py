"""Reading rows back in tests, the same way on every backend.

Each read opens its own connection and ends its transaction, so it never holds a snapshot or
a lock that the writer or a migration under test would then wait for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.pool import NullPool

from acd.records.models import make_engine


async def rows(url: str, statement: Executable) -> list[Row[Any]]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).all())
    finally:
        await engine.dispose()


async def scalars(url: str, statement: Executable) -> list[Any]:
    return [row[0] for row in await rows(url, statement)]
