"""Row builders: each record item as the table row (or bound parameters) it is written as.

Pure functions of the item (and the batch's write time), so the writer's batching and the
direct writes of case work (`acd.records.casework`) build exactly the same rows.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from acd.clock import to_datetime
from acd.core.decisions import (
    AgentStateChanged,
    CallbackAttempt,
    CallbackRequested,
    CallRecord,
    RuleChanged,
)
from acd.records.items import (
    CallEvent,
    CaseNote,
    IvrPath,
    MessageLeft,
    RecordingMade,
    SurveyScore,
)


def call_row(record: CallRecord, now: datetime) -> dict[str, Any]:
    """The `calls` row of a call record (its annotations are not the record's to set)."""
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


def minimal_call_row(item: SurveyScore | IvrPath, now: datetime) -> dict[str, Any]:
    """The row a survey or IVR path creates when the call has none (yet)."""
    # A survey does not know who called; the IVR path's update fills that in if one comes later.
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


def survey_params(survey: SurveyScore, now: datetime) -> dict[str, Any]:
    """Bound parameters of the survey's annotation update (`b_` names, see `acd.records.batch`)."""
    return {
        "b_call_id": survey.call_id,
        "b_score": survey.score,
        "b_scale": survey.scale,
        "b_dissatisfied": survey.dissatisfied,
        "b_now": now,
    }


def ivr_params(ivr: IvrPath, now: datetime) -> dict[str, Any]:
    """Bound parameters of the IVR path's annotation update."""
    return {
        "b_call_id": ivr.call_id,
        "b_caller": ivr.caller,
        "b_hotline": ivr.hotline,
        "b_path": ivr.path,
        "b_now": now,
    }


def callback_row(request: CallbackRequested, now: datetime) -> dict[str, Any]:
    """A new `callbacks` row: no attempts yet."""
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


def message_row(message: MessageLeft) -> dict[str, Any]:
    """A `messages` row."""
    return {
        "call_id": message.call_id,
        "caller": message.caller,
        "hotline": message.hotline,
        "path": message.path,
        "seconds": message.seconds,
        "created_at": to_datetime(message.at),
    }


def recording_row(recording: RecordingMade) -> dict[str, Any]:
    """A `recordings` row; its pauses as a JSON array of [start, end] pairs."""
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


def event_row(event: CallEvent) -> dict[str, Any]:
    """A `call_events` row; the details as a JSON object."""
    return {
        "call_id": event.call_id,
        "at": to_datetime(event.at),
        "kind": event.kind,
        "queue": event.queue,
        "agent": event.agent,
        "data": _json(dict(event.data)),
    }


def ivr_event_row(ivr: IvrPath) -> dict[str, Any]:
    """The IVR step of the call's timeline: the IVR runs in FastAGI, outside the core, so the
    timeline translator never sees it; its path record is the one place it shows."""
    return event_row(
        CallEvent(ivr.call_id, "ivr", ivr.at, data=(("path", ivr.path), ("hotline", ivr.hotline)))
    )


def rule_row(change: RuleChanged) -> dict[str, Any]:
    """A `rule_firings` row: what the rule saw and what it does, as JSON."""
    return {
        "rule": change.rule,
        "state": change.state,
        "scope": change.scope,
        "metrics": _json(dict(change.metrics)),
        "actions": _json(list(change.actions)),
        "at": to_datetime(change.at),
    }


def attempt_row(attempt: CallbackAttempt) -> dict[str, Any]:
    """A `callback_attempts` row."""
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


def note_row(note: CaseNote) -> dict[str, Any]:
    """A `call_notes` row; also what `acd note` and `acd complaint` write directly."""
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


def state_row(change: AgentStateChanged) -> dict[str, Any]:
    """An `agent_states` row."""
    return {
        "agent": change.agent,
        "old_state": change.old,
        "new_state": change.new,
        "reason": change.reason,
        "at": to_datetime(change.at),
    }


def opens_review(survey: SurveyScore) -> bool:
    """A dissatisfied caller's survey with a due time opens a review for the call's agent."""
    return survey.dissatisfied and survey.review_due_at is not None


def review_row(survey: SurveyScore, agent: object) -> dict[str, Any]:
    """The `reviews` row a dissatisfied survey opens; `agent` may be a placeholder the batch
    fills in inside its transaction (see `acd.records.batch`)."""
    assert survey.review_due_at is not None
    return {
        "call_id": survey.call_id,
        "agent": agent,
        "reason": "dissatisfied",
        "created_at": to_datetime(survey.at),
        "due_at": to_datetime(survey.review_due_at),
    }
