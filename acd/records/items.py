"""What the records hold besides the core's decisions: items from the IVR, the recorder, agents'
case notes and the call timeline, and `Record`, everything the writer accepts.

These are not decisions: the core never returns them (the IVR, the recorder, the web and the
timeline projection make them), so they live with the records rather than in `acd.core`.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.core.decisions import (
    AgentStateChanged,
    CallbackAttempt,
    CallbackRequested,
    CallRecord,
    RuleChanged,
)


@dataclass(frozen=True, slots=True)
class SurveyScore:
    """The caller's post-call rating, attached to the call's record."""

    call_id: str
    score: int
    scale: int
    dissatisfied: bool  # at or below the configured threshold: flagged for review
    at: float
    # Set when dissatisfied: the team lead must listen to the recording by then (the seeds:
    # within 2 hours); the writer opens a review for the call's agent.
    review_due_at: float | None = None


@dataclass(frozen=True, slots=True)
class IvrPath:
    """The menus visited and keys pressed, kept on the call's record."""

    call_id: str
    caller: str
    hotline: str
    path: str
    at: float


@dataclass(frozen=True, slots=True)
class MessageLeft:
    """A voicemail-style message: the file Asterisk recorded and how long it is."""

    call_id: str
    caller: str
    hotline: str
    path: str
    seconds: float
    at: float


@dataclass(frozen=True, slots=True)
class RecordingMade:
    """A call's recording, checked on disk after the call.

    `status`: "ok", "missing" (no file) or "truncated" (shorter than the talk time by more than
    the tolerance). `pauses`: (start, end) offsets in seconds where the agent paused recording.
    """

    call_id: str
    agent: str
    caller: str
    queue: str
    path: str  # as Asterisk wrote it
    started_at: float
    talk_seconds: float
    seconds: float
    size: int
    format: str
    sha256: str
    status: str
    pauses: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class CaseNote:
    """The ticket an agent keys in during a call (the seeds: need, address, contact - confirmed
    before hanging up), or with `kind` "complaint" the text of a complaint against `agent`."""

    call_id: str
    agent: str
    need: str | None
    address: str | None
    contact: str | None
    text: str | None
    at: float
    kind: str = "note"  # "note" or "complaint"


#: A timeline detail's value: what JSON can hold without nesting.
EventValue = str | float | int | None


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One step of a call's timeline, for the `call_events` table.

    `kind`: "ivr", "enter", "move" (overflow or a queue's exit rule), "offer",
    "offer-failed" (with reason and ring seconds), "connect", "transfer", "exit" (timeout,
    full, empty), "abandon", "hangup" (with side), "callback-attempt". `data` holds the
    details as (name, value) pairs so the record stays hashable and immutable.
    """

    call_id: str
    kind: str
    at: float
    queue: str | None = None
    agent: str | None = None
    data: tuple[tuple[str, EventValue], ...] = ()


#: Everything `RecordWriter.submit` accepts: the core's record-worthy decisions and the items
#: above.
Record = (
    CallRecord
    | AgentStateChanged
    | SurveyScore
    | IvrPath
    | CallbackRequested
    | MessageLeft
    | RecordingMade
    | RuleChanged
    | CallbackAttempt
    | CaseNote
    | CallEvent
)
