"""Call detail records, agent state history, callbacks and messages in SQL.

SQLite in the lab, PostgreSQL later.
"""

from acd.records.migrate import upgrade, upgrade_async
from acd.records.models import (
    AgentStateRow,
    Base,
    CallbackRow,
    CallRow,
    MessageRow,
    UTCDateTime,
    metadata,
)
from acd.records.queries import callbacks, get_call, messages, recent_calls
from acd.records.writer import RecordWriter

__all__ = [
    "AgentStateRow",
    "Base",
    "CallRow",
    "CallbackRow",
    "MessageRow",
    "RecordWriter",
    "UTCDateTime",
    "callbacks",
    "get_call",
    "messages",
    "metadata",
    "recent_calls",
    "upgrade",
    "upgrade_async",
]
