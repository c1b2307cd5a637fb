"""Persist call records and everything else the core records, without holding up calls.

The engine must keep routing calls while the database is slow, locked or down, so `submit`
only queues; a single task writes in submission order and, when the database refuses, keeps
the items and retries with backoff. Order matters because a call's record is upserted several
times and the last write must be the latest state.

A call's row is written by three kinds of item: `CallRecord` owns every column but the
annotations (`ANNOTATION_COLUMNS`), `SurveyScore` and `IvrPath` own only theirs. Either of the
latter may come before the call's record, or for a call that never queues, so they first
create a minimal row (disposition "ivr") that a later `CallRecord` overwrites without touching
the annotations.

A "dissatisfied" `SurveyScore` with a `review_due_at` also opens a row in `reviews`, in the same
transaction, for the agent the call's row holds at that point of the submission order.
`RecordingMade` appends a row to `recordings`; `CallEvent`, `RuleChanged`, `CallbackAttempt`
and `CaseNote` append to `call_events`, `rule_firings`, `callback_attempts` and `call_notes`. An
`IvrPath` also appends the "ivr" step of the call's timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.clock import to_datetime
from acd.core.decisions import (
    AgentStateChanged,
    CallbackAttempt,
    CallbackRequested,
    CallEvent,
    CallRecord,
    CaseNote,
    IvrPath,
    MessageLeft,
    Record,
    RecordingMade,
    RuleChanged,
    SurveyScore,
)
from acd.records.models import (
    ANNOTATION_COLUMNS,
    AgentStateRow,
    CallbackAttemptRow,
    CallbackRow,
    CallEventRow,
    CallNoteRow,
    CallRow,
    MessageRow,
    RecordingRow,
    ReviewRow,
    RuleFiringRow,
    ensure_sqlite_dir,
    make_engine,
)

#: Everything `submit` accepts (kept under its old name for callers that import it).
Item = Record
_ITEM_TYPES = (
    CallRecord,
    AgentStateChanged,
    SurveyScore,
    IvrPath,
    CallbackRequested,
    MessageLeft,
    RecordingMade,
    RuleChanged,
    CallbackAttempt,
    CaseNote,
    CallEvent,
)

#: Items per transaction: enough to catch up quickly after an outage, small enough that the
#: SQLite write lock is never held for long.
BATCH_MAX = 200

_CALLS: Table = CallRow.__table__  # type: ignore[assignment]
_CALL_COLUMNS = tuple(column.name for column in _CALLS.columns)
#: What a `CallRecord` upsert overwrites: not the key, not what surveys and the IVR set.
_CALL_UPDATE_COLUMNS = tuple(
    name for name in _CALL_COLUMNS if name != "call_id" and name not in ANNOTATION_COLUMNS
)


def _call_row(record: CallRecord, now: datetime) -> dict[str, Any]:
    return {
        "call_id": record.call_id,
        "caller": record.caller,
        "hotline": record.hotline,
        "queue": record.queue,
        "agent": record.agent,
        "entered_at": to_datetime(record.entered_at),
        "answered_at": None if record.answered_at is None else to_datetime(record.answered_at),
        "ended_at": None if record.ended_at is None else to_datetime(record.ended_at),
        "wait_seconds": record.wait_seconds,
        "talk_seconds": record.talk_seconds,
        "disposition": record.disposition,
        "hangup_side": record.hangup_side,
        "offers": record.offers,
        "kind": record.kind,
        "updated_at": now,
    }


def _minimal_call_row(item: SurveyScore | IvrPath, now: datetime) -> dict[str, Any]:
    """The row a survey or IVR path creates when the call has none (yet)."""
    # A survey does not know who called; `_SET_IVR_PATH` fills that in if a path comes later.
    caller, hotline = (item.caller, item.hotline) if isinstance(item, IvrPath) else ("", "")
    return {
        "call_id": item.call_id,
        "caller": caller,
        "hotline": hotline,
        "queue": "",
        "agent": None,
        "entered_at": to_datetime(item.at),
        "answered_at": None,
        "ended_at": None,
        "wait_seconds": None,
        "talk_seconds": None,
        "disposition": "ivr",
        "hangup_side": None,
        "offers": 0,
        "updated_at": now,
    }


def _survey_params(survey: SurveyScore, now: datetime) -> dict[str, Any]:
    return {
        "b_call_id": survey.call_id,
        "b_score": survey.score,
        "b_scale": survey.scale,
        "b_dissatisfied": survey.dissatisfied,
        "b_now": now,
    }


def _ivr_params(ivr: IvrPath, now: datetime) -> dict[str, Any]:
    return {
        "b_call_id": ivr.call_id,
        "b_caller": ivr.caller,
        "b_hotline": ivr.hotline,
        "b_path": ivr.path,
        "b_now": now,
    }


def _callback_row(request: CallbackRequested, now: datetime) -> dict[str, Any]:
    return {
        "call_id": request.call_id,
        "caller": request.caller,
        "hotline": request.hotline,
        "queue": request.queue,
        "kind": request.kind,
        "requested_at": to_datetime(request.requested_at),
        "due_at": to_datetime(request.due_at),
        "status": request.status,
        "attempts": 0,
        "updated_at": now,
    }


def _message_row(message: MessageLeft) -> dict[str, Any]:
    return {
        "call_id": message.call_id,
        "caller": message.caller,
        "hotline": message.hotline,
        "path": message.path,
        "seconds": message.seconds,
        "created_at": to_datetime(message.at),
    }


def _recording_row(recording: RecordingMade) -> dict[str, Any]:
    return {
        "call_id": recording.call_id,
        "agent": recording.agent,
        "caller": recording.caller,
        "queue": recording.queue,
        "path": recording.path,
        "started_at": to_datetime(recording.started_at),
        "talk_seconds": recording.talk_seconds,
        "seconds": recording.seconds,
        "size": recording.size,
        "format": recording.format,
        "sha256": recording.sha256,
        "status": recording.status,
        # Tuples become JSON arrays; `default=str` so odd values cannot make the item unwritable
        # by raising here, where the writer would take the error for a passing one and retry.
        "pauses": json.dumps(recording.pauses, default=str),
    }


def _json(value: object) -> str:
    # `default=str` for the same reason as a recording's pauses: an odd value must not make
    # the item look like a passing database error.
    return json.dumps(value, ensure_ascii=False, default=str)


def _event_row(event: CallEvent) -> dict[str, Any]:
    return {
        "call_id": event.call_id,
        "at": to_datetime(event.at),
        "kind": event.kind,
        "queue": event.queue,
        "agent": event.agent,
        "data": _json(dict(event.data)),
    }


def _ivr_event_row(ivr: IvrPath) -> dict[str, Any]:
    """The IVR step of the call's timeline: the IVR runs in FastAGI, outside the core, so the
    timeline translator never sees it; its path record is the one place it shows."""
    return _event_row(
        CallEvent(ivr.call_id, "ivr", ivr.at, data=(("path", ivr.path), ("hotline", ivr.hotline)))
    )


def _rule_row(change: RuleChanged) -> dict[str, Any]:
    return {
        "rule": change.rule,
        "state": change.state,
        "scope": change.scope,
        "metrics": _json(dict(change.metrics)),
        "actions": _json(list(change.actions)),
        "at": to_datetime(change.at),
    }


def _attempt_row(attempt: CallbackAttempt) -> dict[str, Any]:
    return {
        "callback_id": attempt.callback_id,
        "call_id": attempt.call_id,
        "number": attempt.number,
        "queue": attempt.queue,
        "kind": attempt.kind,
        "agent": attempt.agent,
        "attempt": attempt.attempt,
        "outcome": attempt.outcome,
        "at": to_datetime(attempt.at),
        "retry_at": None if attempt.retry_at is None else to_datetime(attempt.retry_at),
    }


def _callback_progress(attempt: CallbackAttempt, now: datetime) -> Any:
    """The callbacks row after a dial: done when answered, pending with `not_before` while
    retries are left, failed after the last; a virtual-hold row (no id in the core) is found
    by its call."""
    if attempt.outcome == "answered":
        status = "done"
    else:
        status = "pending" if attempt.retry_at is not None else "failed"
    if attempt.callback_id is not None:
        where = CallbackRow.id == attempt.callback_id
    else:
        where = (CallbackRow.call_id == attempt.call_id) & (CallbackRow.kind == attempt.kind)
    return (
        update(CallbackRow)
        .where(where)
        .values(
            status=status,
            attempts=attempt.attempt,
            not_before=None if attempt.retry_at is None else to_datetime(attempt.retry_at),
            updated_at=now,
        )
    )


def note_row(note: CaseNote) -> dict[str, Any]:
    """A `call_notes` row; also used by `acd note` and `acd complaint`, which write directly."""
    return {
        "call_id": note.call_id,
        "agent": note.agent,
        "kind": note.kind,
        "need": note.need,
        "address": note.address,
        "contact": note.contact,
        "text": note.text,
        "at": to_datetime(note.at),
    }


def _opens_review(survey: SurveyScore) -> bool:
    return survey.dissatisfied and survey.review_due_at is not None


class _AgentBeforeBatch:
    """Placeholder for "the agent the call's row held before this batch": looked up in the
    batch's transaction, before its call records are written."""


_BEFORE_BATCH = _AgentBeforeBatch()


def _review_row(survey: SurveyScore, agent: str | _AgentBeforeBatch | None) -> dict[str, Any]:
    assert survey.review_due_at is not None
    return {
        "call_id": survey.call_id,
        "agent": agent,
        "reason": "dissatisfied",
        "created_at": to_datetime(survey.at),
        "due_at": to_datetime(survey.review_due_at),
    }


# Annotation updates by call_id, run as executemany. Bind names differ from the column names,
# which SQLAlchemy reserves for the SET clause.
_SET_SURVEY = (
    update(_CALLS)
    .where(_CALLS.c.call_id == bindparam("b_call_id"))
    .values(
        survey_score=bindparam("b_score"),
        survey_scale=bindparam("b_scale"),
        dissatisfied=bindparam("b_dissatisfied"),
        updated_at=bindparam("b_now"),
    )
)
_SET_IVR_PATH = (
    update(_CALLS)
    .where(_CALLS.c.call_id == bindparam("b_call_id"))
    .values(
        ivr_path=bindparam("b_path"),
        # A row a survey created first knows neither; the path's item does.
        caller=case((_CALLS.c.caller == "", bindparam("b_caller")), else_=_CALLS.c.caller),
        hotline=case((_CALLS.c.hotline == "", bindparam("b_hotline")), else_=_CALLS.c.hotline),
        updated_at=bindparam("b_now"),
    )
)


def _state_row(change: AgentStateChanged) -> dict[str, Any]:
    return {
        "agent": change.agent,
        "old_state": change.old,
        "new_state": change.new,
        "reason": change.reason,
        "at": to_datetime(change.at),
    }


def _is_bad_item(error: BaseException) -> bool:
    """True when retrying cannot help because the data itself is refused.

    Everything else - locks, lost connections, a schema not migrated yet, missing grants -
    is something an operator or time can fix, so those items are kept and retried.
    """
    if isinstance(error, sa_exc.IntegrityError | sa_exc.DataError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        # asyncpg's data errors ("value too long for type character varying(64)") reach
        # SQLAlchemy as a plain DBAPIError; without this they would be retried forever and
        # hold up every later record. SQLSTATE class 22 is data exceptions, 23 integrity.
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate[:2] in ("22", "23")
    # A StatementError that is not a DBAPIError failed while binding parameters, before the
    # database was asked anything.
    return isinstance(error, sa_exc.StatementError)


def _short(error: BaseException) -> str:
    """The driver's message without SQLAlchemy's appended SQL and parameters (caller numbers)."""
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        error = error.orig
    return f"{type(error).__name__}: {error}"


class RecordWriter:
    """Queue of records with one task draining it into the database.

    `submit` must be called from the event loop's thread. Items are written in submission
    order; several upserts of one call within a batch collapse to the last one, which is what
    the row would end up holding anyway. The same holds for surveys and IVR paths of one call,
    and since a `CallRecord` and those never write the same columns, writing a batch's call
    records before its annotations leaves the rows as strict submission order would.
    """

    def __init__(
        self,
        url: str,
        *,
        logger: logging.Logger | None = None,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        if retry_initial <= 0 or retry_max < retry_initial:
            raise ValueError("need 0 < retry_initial <= retry_max")
        self._url = url
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._queue: asyncio.Queue[Item | None] = asyncio.Queue()
        self._buffer: list[Item] = []  # taken from the queue, not yet committed
        self._pending = 0
        self._engine: AsyncEngine | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Items submitted but not yet committed (or given up on as unwritable)."""
        return self._pending

    async def start(self) -> None:
        """Create the engine and the writer task; items submitted earlier are kept."""
        if self._closed:
            raise RuntimeError("RecordWriter is closed")
        self._start()

    def _start(self) -> None:
        if self._task is not None:
            return
        ensure_sqlite_dir(self._url)
        self._engine = make_engine(self._url, immediate_writes=True)
        self._task = asyncio.create_task(self._run(self._engine), name="acd-record-writer")
        self._task.add_done_callback(self._on_task_done)

    def submit(self, item: Record) -> None:
        """Queue `item` for writing; never blocks and never drops."""
        if self._closed:
            raise RuntimeError("RecordWriter is closed")
        if not isinstance(item, _ITEM_TYPES):
            raise TypeError(f"cannot record {type(item).__name__}")
        self._queue.put_nowait(item)
        self._pending += 1

    async def close(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - public API
        """Write everything already submitted, then release the database.

        With a `timeout`, gives up after that many seconds (the database may be down for
        good at shutdown); whatever was not written is reported in the log.
        """
        if self._closed:
            return
        self._closed = True
        if self._task is None:
            if self._pending == 0:
                return
            self._start()  # items were submitted before start(); write them now
        task, engine = self._task, self._engine
        assert task is not None and engine is not None
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            self._log.error(
                "record writer closed after %.1fs with %d items unwritten", timeout, self._pending
            )
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.dispose()

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._log.error("record writer task died", exc_info=task.exception())

    async def _run(self, engine: AsyncEngine) -> None:
        stopping = False
        while True:
            if not self._buffer:
                if stopping:
                    return
                first = await self._queue.get()
                if first is None:
                    return
                self._buffer.append(first)
            while not stopping and len(self._buffer) < BATCH_MAX:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    stopping = True
                else:
                    self._buffer.append(item)
            batch = self._buffer[:BATCH_MAX]
            await self._write_until_done(engine, batch)
            del self._buffer[: len(batch)]
            self._pending -= len(batch)

    async def _write_until_done(self, engine: AsyncEngine, batch: Sequence[Item]) -> None:
        delay = self._retry_initial
        attempt = 0
        while True:
            try:
                await self._write(engine, batch)
            except Exception as error:
                if _is_bad_item(error):
                    await self._isolate_bad_items(engine, batch, error)
                    return
                attempt += 1
                self._log.warning(
                    "records not written (attempt %d, %d pending), retrying in %.2fs: %s",
                    attempt,
                    self._pending,
                    delay,
                    _short(error),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
            else:
                if attempt:
                    self._log.info("records written again after %d failed attempts", attempt)
                return

    async def _isolate_bad_items(
        self, engine: AsyncEngine, batch: Sequence[Item], error: Exception
    ) -> None:
        """Write a refused batch item by item so one bad record cannot block the rest.

        An item the database refuses on its own can never be written; it is logged in full,
        so it can be recovered by hand, and skipped - the alternative is a queue stuck forever.
        """
        if len(batch) == 1:
            self._log.error("record refused by the database, skipped: %r (%s)", batch[0], error)
            return
        for item in batch:
            await self._write_until_done(engine, [item])

    async def _write(self, engine: AsyncEngine, batch: Sequence[Item]) -> None:
        now = datetime.now(UTC)
        calls: dict[str, dict[str, Any]] = {}
        minimal: dict[str, dict[str, Any]] = {}  # the first annotation of a call makes its row
        surveys: dict[str, dict[str, Any]] = {}
        ivr_paths: dict[str, dict[str, Any]] = {}
        states: list[dict[str, Any]] = []
        callbacks: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        recordings: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        rules: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        progress: list[Any] = []  # callbacks rows moved on by the attempts, in order
        notes: list[dict[str, Any]] = []
        # The agent each call's row holds at this point of the batch, for calls with a record
        # in it so far; other calls' rows still hold what they held before the batch.
        agents: dict[str, str | None] = {}
        for item in batch:
            if isinstance(item, CallRecord):
                calls[item.call_id] = _call_row(item, now)
                agents[item.call_id] = item.agent
            elif isinstance(item, AgentStateChanged):
                states.append(_state_row(item))
            elif isinstance(item, SurveyScore):
                minimal.setdefault(item.call_id, _minimal_call_row(item, now))
                surveys[item.call_id] = _survey_params(item, now)
                if _opens_review(item):
                    reviews.append(_review_row(item, agents.get(item.call_id, _BEFORE_BATCH)))
            elif isinstance(item, IvrPath):
                minimal.setdefault(item.call_id, _minimal_call_row(item, now))
                params = _ivr_params(item, now)
                earlier = ivr_paths.get(item.call_id)
                if earlier is not None:
                    # Caller and hotline only fill in blanks, so the first path that had them
                    # wins, as it would have written alone; the path itself is the latest.
                    for key in ("b_caller", "b_hotline"):
                        if earlier[key] != "":
                            params[key] = earlier[key]
                ivr_paths[item.call_id] = params
                events.append(_ivr_event_row(item))
            elif isinstance(item, CallbackRequested):
                callbacks.append(_callback_row(item, now))
            elif isinstance(item, MessageLeft):
                messages.append(_message_row(item))
            elif isinstance(item, RecordingMade):
                recordings.append(_recording_row(item))
            elif isinstance(item, CallEvent):
                events.append(_event_row(item))
            elif isinstance(item, RuleChanged):
                rules.append(_rule_row(item))
            elif isinstance(item, CallbackAttempt):
                attempts.append(_attempt_row(item))
                progress.append(_callback_progress(item, now))
            elif isinstance(item, CaseNote):
                notes.append(note_row(item))
        async with engine.begin() as conn:
            if reviews:
                # Before the batch's call records change any agent: a survey sees the row as
                # the items submitted before it left it.
                await _fill_agents_before_batch(conn, reviews)
            if calls:
                await _upsert_calls(conn, list(calls.values()))
            # Calls with a record in this batch have their row by now and are skipped.
            missing = [row for call_id, row in minimal.items() if call_id not in calls]
            if missing:
                await _insert_missing_calls(conn, missing)
            if surveys:
                await conn.execute(_SET_SURVEY, list(surveys.values()))
            if ivr_paths:
                await conn.execute(_SET_IVR_PATH, list(ivr_paths.values()))
            if states:
                await conn.execute(insert(AgentStateRow), states)
            if callbacks:
                await conn.execute(insert(CallbackRow), callbacks)
            if messages:
                await conn.execute(insert(MessageRow), messages)
            if recordings:
                await conn.execute(insert(RecordingRow), recordings)
            if reviews:
                await conn.execute(insert(ReviewRow), reviews)
            # Append-only tables, each in submission order (ids follow it).
            if events:
                await conn.execute(insert(CallEventRow), events)
            if rules:
                await conn.execute(insert(RuleFiringRow), rules)
            if attempts:
                await conn.execute(insert(CallbackAttemptRow), attempts)
            for statement in progress:
                await conn.execute(statement)
            if notes:
                await conn.execute(insert(CallNoteRow), notes)


async def _fill_agents_before_batch(conn: AsyncConnection, reviews: list[dict[str, Any]]) -> None:
    """Replace `_BEFORE_BATCH` agents with the calls' agents as stored now (None: no row)."""
    wanted = sorted({row["call_id"] for row in reviews if row["agent"] is _BEFORE_BATCH})
    if not wanted:
        return
    stored: dict[str, str | None] = {}
    for start in range(0, len(wanted), 500):  # well below every backend's bind limit
        chunk = wanted[start : start + 500]
        result = await conn.execute(
            select(CallRow.call_id, CallRow.agent).where(CallRow.call_id.in_(chunk))
        )
        stored.update({call_id: agent for call_id, agent in result.all()})
    for row in reviews:
        if row["agent"] is _BEFORE_BATCH:
            row["agent"] = stored.get(row["call_id"])


async def _insert_missing_calls(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Insert the call rows whose call_id is not in `calls` yet; leave existing rows alone."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        await conn.execute(
            sqlite.insert(CallRow).on_conflict_do_nothing(index_elements=[CallRow.call_id]), rows
        )
    elif dialect == "postgresql":
        await conn.execute(
            postgresql.insert(CallRow).on_conflict_do_nothing(index_elements=[CallRow.call_id]),
            rows,
        )
    else:
        # No native upsert: safe here because this task is the only writer of `calls`.
        for row in rows:
            found = await conn.execute(
                select(CallRow.call_id).where(CallRow.call_id == row["call_id"])
            )
            if found.first() is None:
                await conn.execute(insert(CallRow).values(row))


async def _upsert_calls(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Insert call rows or overwrite all but their annotations; `rows` must not repeat a
    call_id."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        sqlite_stmt = sqlite.insert(CallRow)
        await conn.execute(
            sqlite_stmt.on_conflict_do_update(
                index_elements=[CallRow.call_id],
                set_={name: sqlite_stmt.excluded[name] for name in _CALL_UPDATE_COLUMNS},
            ),
            rows,
        )
    elif dialect == "postgresql":
        pg_stmt = postgresql.insert(CallRow)
        await conn.execute(
            pg_stmt.on_conflict_do_update(
                index_elements=[CallRow.call_id],
                set_={name: pg_stmt.excluded[name] for name in _CALL_UPDATE_COLUMNS},
            ),
            rows,
        )
    else:
        # No native upsert: safe here because this task is the only writer of `calls`.
        for row in rows:
            result = await conn.execute(
                update(CallRow)
                .where(CallRow.call_id == row["call_id"])
                .values({name: row[name] for name in _CALL_UPDATE_COLUMNS})
            )
            if result.rowcount == 0:
                await conn.execute(insert(CallRow).values(row))
