"""Call detail records and agent state history in SQL (SQLite in the lab, PostgreSQL later)."""

from acd.records.migrate import upgrade, upgrade_async
from acd.records.models import AgentStateRow, Base, CallRow, UTCDateTime, metadata
from acd.records.queries import get_call, recent_calls
from acd.records.writer import RecordWriter

__all__ = [
    "AgentStateRow",
    "Base",
    "CallRow",
    "RecordWriter",
    "UTCDateTime",
    "get_call",
    "metadata",
    "recent_calls",
    "upgrade",
    "upgrade_async",
]
