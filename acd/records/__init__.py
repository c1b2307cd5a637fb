"""Call detail records, agent state history, callbacks, messages, recordings and reviews in SQL.

SQLite in the lab, PostgreSQL later.
"""

from acd.records.migrate import upgrade, upgrade_async
from acd.records.models import (
    AgentStateRow,
    Base,
    CallbackRow,
    CallRow,
    MessageRow,
    RecordingRow,
    ReviewRow,
    UTCDateTime,
    metadata,
)
from acd.records.queries import (
    callbacks,
    find_recordings,
    get_call,
    get_recording,
    messages,
    recent_calls,
    review_done,
    reviews,
    score_recording,
)
from acd.records.writer import RecordWriter

__all__ = [
    "AgentStateRow",
    "Base",
    "CallRow",
    "CallbackRow",
    "MessageRow",
    "RecordWriter",
    "RecordingRow",
    "ReviewRow",
    "UTCDateTime",
    "callbacks",
    "find_recordings",
    "get_call",
    "get_recording",
    "messages",
    "metadata",
    "recent_calls",
    "review_done",
    "reviews",
    "score_recording",
    "upgrade",
    "upgrade_async",
]
