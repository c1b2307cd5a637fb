"""The records schema and the one way of reaching it.

The same models must serve SQLite in the lab and PostgreSQL in production, so times go through
`UTCDateTime` (SQLite has no time zone storage) and engines are built by `make_engine`, which
applies the SQLite settings that let one writer and many readers share the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    event,
    false,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

# Dialects whose timestamp type keeps the offset; everywhere else UTC is stored naive.
_AWARE_DIALECTS = frozenset({"postgresql"})

#: Seconds a SQLite statement waits for a lock before giving up (overridable by ?timeout=).
SQLITE_BUSY_TIMEOUT = 5.0


class UTCDateTime(TypeDecorator[datetime]):
    """An aware-UTC datetime on every backend.

    SQLite drops the offset and hands back naive values; callers comparing those with aware
    datetimes would crash or, worse, silently compare local time with UTC. Naive input is
    refused for the same reason: its zone is a guess.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: records only hold aware UTC times")
        value = value.astimezone(UTC)
        return value if dialect.name in _AWARE_DIALECTS else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Fixed names so the hand-written migrations and the models agree on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata


class CallRow(Base):
    """One row per call, overwritten as the call progresses (see `CallRecord`).

    Dispositions and hangup sides are plain strings without CHECK constraints: the core owns
    the vocabulary, and a constraint here would turn a new value into a write that can never
    succeed.
    """

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    caller: Mapped[str] = mapped_column(Text)  # as presented, whatever its length (0007)
    hotline: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str] = mapped_column(String(16))
    hangup_side: Mapped[str | None] = mapped_column(String(16))
    offers: Mapped[int] = mapped_column(Integer, default=0)
    # "inbound", or the callback kind of a call the dialer placed (see CallRecord.kind).
    kind: Mapped[str] = mapped_column(String(16), default="inbound", server_default="inbound")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set by `SurveyScore` and `IvrPath`, never by `CallRecord` (see ANNOTATION_COLUMNS).
    survey_score: Mapped[int | None] = mapped_column(Integer)
    survey_scale: Mapped[int | None] = mapped_column(Integer)
    dissatisfied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ivr_path: Mapped[str | None] = mapped_column(Text)


#: `calls` columns that arrive separately from the call record and that its upserts leave alone.
ANNOTATION_COLUMNS = frozenset({"survey_score", "survey_scale", "dissatisfied", "ivr_path"})


class AgentStateRow(Base):
    """Append-only history of agent state changes, for occupancy and login reports."""

    __tablename__ = "agent_states"
    # Reports ask "what did agent X do between T1 and T2".
    __table_args__ = (Index("ix_agent_states_agent_at", "agent", "at"),)

    # BIGINT on PostgreSQL for a history that never shrinks; SQLite only autoincrements an
    # INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    agent: Mapped[str] = mapped_column(String(64))
    old_state: Mapped[str] = mapped_column(String(32))
    new_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackRow(Base):
    """A caller's request to be called back; `status` and `attempts` move as it is worked."""

    __tablename__ = "callbacks"
    # The dialer asks "which pending callbacks are due first".
    __table_args__ = (Index("ix_callbacks_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    caller: Mapped[str] = mapped_column(Text)  # as presented, whatever its length (0007)
    hotline: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # `due_at` is the promise (a deadline); this is the earliest the dialer may try again
    # after an unanswered dial (NULL: as soon as the hotline is open).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MessageRow(Base):
    """A message a caller left: where Asterisk recorded it and how long it is."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    caller: Mapped[str] = mapped_column(Text)  # as presented, whatever its length (0007)
    hotline: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RecordingRow(Base):
    """A call's recording: where Asterisk wrote it, what was found on disk, and its QA review.

    `path` is the file as Asterisk sees it (under `asterisk.spool_dir`). `status` is "ok",
    "missing" or "truncated" as checked after the call, and "purged" once retention deleted
    the file (`purged_at`). `pauses` is a JSON list of `[start, end]` offsets in seconds where
    the agent paused recording. `qa_score` is a QA monitor's score, 1..100.
    """

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(Text)  # as presented, whatever its length (0007)
    queue: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(1024))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    talk_seconds: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    pauses: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    qa_score: Mapped[int | None] = mapped_column(Integer)
    qa_comment: Mapped[str | None] = mapped_column(Text)
    qa_reviewer: Mapped[str | None] = mapped_column(String(64))
    qa_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewRow(Base):
    """A recording the team lead must listen to by `due_at` (the seeds: within 2 hours of a
    "dissatisfied" rating); `done_at`, `note` and `reviewer` are set when it was done.

    `agent` is the call's agent when the review was opened; NULL if the call's row had none.
    `reason` is "dissatisfied" or "complaint".
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    agent: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str | None] = mapped_column(String(64))


def _history_id() -> Mapped[int]:
    """An ever-growing history's key: BIGINT on PostgreSQL, INTEGER (to autoincrement) on
    SQLite, as `agent_states` has it."""
    return mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


class CallEventRow(Base):
    """A call's timeline, one row a step (see `CallEvent`); `data` is a JSON object.

    Read back in `at`, `id` order, the steps from "enter" to "connect" add up to the call's
    wait and from "connect" to "hangup" to its talk time.
    """

    __tablename__ = "call_events"

    id: Mapped[int] = _history_id()
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(128))
    agent: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class RuleFiringRow(Base):
    """A queue-depth rule fired or cleared (`RuleChanged`); `metrics` is a JSON object of what
    it saw, `actions` a JSON list of what it did."""

    __tablename__ = "rule_firings"

    id: Mapped[int] = _history_id()
    rule: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(128))
    metrics: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    actions: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CallbackAttemptRow(Base):
    """One dial of a callback (`CallbackAttempt`); `callback_id` is NULL for virtual hold."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = _history_id()
    callback_id: Mapped[int | None] = mapped_column(Integer, index=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    number: Mapped[str] = mapped_column(Text)  # the caller's number (0007)
    queue: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallNoteRow(Base):
    """The ticket an agent keys in during a call (need, address, contact, free text), or the
    text of a complaint against `agent` (`kind` "complaint")."""

    __tablename__ = "call_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    agent: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="note", server_default="note")
    need: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebUserRow(Base):
    """A person who may sign in to the web pages (acd/web); created with `acd user add`.

    `role` is "agent", "supervisor" or "admin"; `agent` is the work number whose phone and
    state the user acts as (required for agents, needed by supervisors who listen in).
    `password_hash` is an argon2id hash in PHC form; the password itself is never stored.
    """

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def ensure_sqlite_dir(url: str | URL) -> None:
    """Create the folder of a SQLite file: SQLite creates the file but not its directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str | URL, *, immediate_writes: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine with the settings this schema needs on its backend.

    For SQLite: WAL so readers never block the writer, a busy timeout so short lock contention
    is waited out instead of failing, and - with `immediate_writes` - `BEGIN IMMEDIATE` so a
    write transaction takes the write lock up front; a deferred BEGIN that later upgrades its
    lock can fail with SQLITE_BUSY without the busy handler ever being consulted.

    On every backend the statement parameters are kept out of error messages and logs
    (`hide_parameters`): they hold caller numbers, which logs only ever show masked.
    """
    parsed = make_url(url)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(parsed, **kwargs)

    raw_timeout = parsed.query.get("timeout")
    if isinstance(raw_timeout, tuple):
        raw_timeout = raw_timeout[-1]
    busy_ms = int(float(raw_timeout if raw_timeout is not None else SQLITE_BUSY_TIMEOUT) * 1000)
    in_memory = parsed.database in (None, "", ":memory:")

    engine = create_async_engine(parsed, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module (see SQLAlchemy's "Enabling
        # Non-Legacy SQLite Transactional Modes"); BEGIN is emitted by the hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # Safe with WAL (a crash may lose the last commits, never corrupt) and much
                # cheaper than FULL for many small transactions.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, immediate_writes)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: Execution option that makes an engine's SQLite transactions `BEGIN IMMEDIATE`.
_IMMEDIATE = "acd_immediate_writes"


def for_writes(engine: AsyncEngine) -> AsyncEngine:
    """`engine` (same pool) with its SQLite transactions begun as with `immediate_writes`: one
    engine serves short reads with a deferred BEGIN and the odd write that must lock up front."""
    return engine.execution_options(**{_IMMEDIATE: True})
