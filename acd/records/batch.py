"""One transaction's worth of record items: a registry of row builders per item type, and the
statements that write what they built.

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

A new kind of record is one row builder in `acd.records.rows`, one entry in `BUILDERS` and one
member of `acd.records.items.Record` (a test holds the last two equal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.clock import to_datetime
from acd.core.decisions import (
    AgentStateChanged,
    CallbackAttempt,
    CallbackRequested,
    CallRecord,
    RuleChanged,
)
from acd.records import rows
from acd.records.items import (
    CallEvent,
    CaseNote,
    IvrPath,
    MessageLeft,
    Record,
    RecordingMade,
    SurveyScore,
)
from acd.records.models import (
    ANNOTATION_COLUMNS,
    AgentStateRow,
    Base,
    CallbackAttemptRow,
    CallbackRow,
    CallEventRow,
    CallNoteRow,
    CallRow,
    MessageRow,
    RecordingRow,
    ReviewRow,
    RuleFiringRow,
)

_CALLS: Table = CallRow.__table__  # type: ignore[assignment]
_CALL_COLUMNS = tuple(column.name for column in _CALLS.columns)
#: What a `CallRecord` upsert overwrites: not the key, not what surveys and the IVR set.
_CALL_UPDATE_COLUMNS = tuple(
    name for name in _CALL_COLUMNS if name != "call_id" and name not in ANNOTATION_COLUMNS
)


class _AgentBeforeBatch:
    """Placeholder for "the agent the call's row held before this batch": looked up in the
    batch's transaction, before its call records are written."""


_BEFORE_BATCH = _AgentBeforeBatch()

#: Append-only tables in the order a batch inserts them (ids follow submission order within
#: each); the callbacks rows that attempts move on are updated after `callback_attempts`.
_APPENDS_BEFORE_PROGRESS: tuple[type[Base], ...] = (
    AgentStateRow,
    CallbackRow,
    MessageRow,
    RecordingRow,
    ReviewRow,
    CallEventRow,
    RuleFiringRow,
    CallbackAttemptRow,
)
_APPENDS_AFTER_PROGRESS: tuple[type[Base], ...] = (CallNoteRow,)


@dataclass
class Batch:
    """The rows a batch of items writes, collected by the row builders in submission order.

    Several upserts of one call collapse to the last one, which is what the row would end up
    holding anyway; the same holds for surveys and IVR paths of one call, and since a
    `CallRecord` and those never write the same columns, writing the call records before the
    annotations leaves the rows as strict submission order would.
    """

    now: datetime
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    minimal: dict[str, dict[str, Any]] = field(default_factory=dict)  # first annotation's row
    surveys: dict[str, dict[str, Any]] = field(default_factory=dict)
    ivr_paths: dict[str, dict[str, Any]] = field(default_factory=dict)
    appends: dict[type[Base], list[dict[str, Any]]] = field(default_factory=dict)
    progress: list[Any] = field(default_factory=list)  # callbacks rows moved on, in order
    # The agent each call's row holds at this point of the batch, for calls with a record in
    # it so far; other calls' rows still hold what they held before the batch.
    agents: dict[str, str | None] = field(default_factory=dict)

    def append(self, table: type[Base], row: dict[str, Any]) -> None:
        self.appends.setdefault(table, []).append(row)

    def add(self, item: Record) -> None:
        """Build `item`'s rows with the builder registered for its type."""
        BUILDERS[type(item)](self, item)

    async def write(self, conn: AsyncConnection) -> None:
        """Run the batch's statements in `conn`'s transaction."""
        reviews = self.appends.get(ReviewRow, [])
        if reviews:
            # Before the batch's call records change any agent: a survey sees the row as the
            # items submitted before it left it.
            await _fill_agents_before_batch(conn, reviews)
        if self.calls:
            await _upsert_calls(conn, list(self.calls.values()))
        # Calls with a record in this batch have their row by now and are skipped.
        missing = [row for call_id, row in self.minimal.items() if call_id not in self.calls]
        if missing:
            await _insert_missing_calls(conn, missing)
        if self.surveys:
            await conn.execute(_SET_SURVEY, list(self.surveys.values()))
        if self.ivr_paths:
            await conn.execute(_SET_IVR_PATH, list(self.ivr_paths.values()))
        await self._insert(conn, _APPENDS_BEFORE_PROGRESS)
        for statement in self.progress:
            await conn.execute(statement)
        await self._insert(conn, _APPENDS_AFTER_PROGRESS)

    async def _insert(self, conn: AsyncConnection, tables: Sequence[type[Base]]) -> None:
        for table in tables:
            appended = self.appends.get(table)
            if appended:
                await conn.execute(insert(table), appended)


def _add_call(batch: Batch, record: CallRecord) -> None:
    batch.calls[record.call_id] = rows.call_row(record, batch.now)
    batch.agents[record.call_id] = record.agent


def _add_survey(batch: Batch, survey: SurveyScore) -> None:
    batch.minimal.setdefault(survey.call_id, rows.minimal_call_row(survey, batch.now))
    batch.surveys[survey.call_id] = rows.survey_params(survey, batch.now)
    if rows.opens_review(survey):
        agent = batch.agents.get(survey.call_id, _BEFORE_BATCH)
        batch.append(ReviewRow, rows.review_row(survey, agent))


def _add_ivr_path(batch: Batch, ivr: IvrPath) -> None:
    batch.minimal.setdefault(ivr.call_id, rows.minimal_call_row(ivr, batch.now))
    params = rows.ivr_params(ivr, batch.now)
    earlier = batch.ivr_paths.get(ivr.call_id)
    if earlier is not None:
        # Caller and hotline only fill in blanks, so the first path that had them wins, as it
        # would have written alone; the path itself is the latest.
        for key in ("b_caller", "b_hotline"):
            if earlier[key] != "":
                params[key] = earlier[key]
    batch.ivr_paths[ivr.call_id] = params
    batch.append(CallEventRow, rows.ivr_event_row(ivr))


def _add_attempt(batch: Batch, attempt: CallbackAttempt) -> None:
    batch.append(CallbackAttemptRow, rows.attempt_row(attempt))
    batch.progress.append(_callback_progress(attempt, batch.now))


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


_Item = TypeVar("_Item")


def _appending(
    table: type[Base], build: Callable[[_Item], dict[str, Any]]
) -> Callable[[Batch, _Item], None]:
    """A builder for an item that appends one row to `table`."""

    def add(batch: Batch, item: _Item) -> None:
        batch.append(table, build(item))

    return add


def _add_callback(batch: Batch, request: CallbackRequested) -> None:
    batch.append(CallbackRow, rows.callback_row(request, batch.now))


#: The row builder of every item type `RecordWriter.submit` accepts.
BUILDERS: Mapping[type[Any], Callable[[Batch, Any], None]] = {
    CallRecord: _add_call,
    AgentStateChanged: _appending(AgentStateRow, rows.state_row),
    SurveyScore: _add_survey,
    IvrPath: _add_ivr_path,
    CallbackRequested: _add_callback,
    MessageLeft: _appending(MessageRow, rows.message_row),
    RecordingMade: _appending(RecordingRow, rows.recording_row),
    CallEvent: _appending(CallEventRow, rows.event_row),
    RuleChanged: _appending(RuleFiringRow, rows.rule_row),
    CallbackAttempt: _add_attempt,
    CaseNote: _appending(CallNoteRow, rows.note_row),
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
