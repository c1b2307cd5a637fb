"""What the core decided, said where it decided it: the facts every projection is built from.

Effects (`acd.core.decisions`) ask the world to do something; facts say what happened. The
timeline and queue_log, MQTT, metrics and the web are plain projections of these (`match`
over them), so none of them re-derives from call-record snapshots what the core already knew:
why an offer ended, where a caller stood, which queues an agent serves.

Times are the core's clock. `queued_at` is when the call reached its current queue (app_queue
starts each Queue()'s hold clock there) and `origposition` its place when it joined that
queue's line, so queue_log lines need nothing but the fact in hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acd.core.vocab import (
    CallKind,
    Disposition,
    ExitReason,
    HangupSide,
    LeaveReason,
    OfferFailure,
)


class QueueCause(StrEnum):
    ENTERED = "entered"  # the first line the call joined
    MOVED = "moved"  # overflow, a queue's exit rule, or a reload that removed its queue


@dataclass(frozen=True, slots=True)
class CallArrived:
    """A call the core did not know: a caller from the IVR, or a callback fed by the dialer.

    `queue` is the queue it asked for; whether that queue keeps it follows as CallQueued,
    CallRefused or CallMoved.
    """

    call_id: str
    caller: str
    hotline: str
    queue: str
    priority: int
    kind: CallKind
    entered_at: float
    at: float


@dataclass(frozen=True, slots=True)
class CallQueued:
    """The call joined `queue`'s line at `position` (1 = next to be offered)."""

    call_id: str
    queue: str
    position: int
    cause: QueueCause
    caller: str
    hotline: str
    priority: int
    kind: CallKind
    entered_at: float
    requested: str  # the queue the call asked for on arrival
    at: float


@dataclass(frozen=True, slots=True)
class CallRefused:
    """`queue` turned the call away at its door: full, or nobody to take it. A CallMoved or
    a CallLeft follows, as the queue's rule says."""

    call_id: str
    queue: str
    reason: ExitReason
    kind: CallKind
    at: float


@dataclass(frozen=True, slots=True)
class CallMoved:
    """The call went from one queue to another (overflow step, max wait, empty, full).

    `position` was its place in `from_queue`'s line as it left; 0 when it was never in
    that line (turned away at the door). Same caller, same entry time, same priority.
    """

    call_id: str
    channel: str
    from_queue: str
    to_queue: str
    reason: ExitReason
    position: int
    origposition: int
    queued_at: float
    kind: CallKind
    at: float


@dataclass(frozen=True, slots=True)
class CallLeft:
    """A waiting caller left without reaching an agent.

    `position` is the place in the line as it left (0: never in a line, turned away at every
    door). VIRTUAL_HOLD callers leave the line by a key but the call keeps its place.
    """

    call_id: str
    queue: str
    reason: LeaveReason
    position: int
    origposition: int
    queued_at: float
    entered_at: float
    side: HangupSide
    kind: CallKind
    at: float
    goodbye_prompt: str | None = None  # what the caller hears on the way out


@dataclass(frozen=True, slots=True)
class OfferEnded:
    """An offer ended without a conversation; the call is back at the head of its queue
    (or gone, when the reason is CALLER_HUNG_UP)."""

    call_id: str
    agent: str
    queue: str
    reason: OfferFailure
    ring_seconds: float
    kind: CallKind
    at: float


@dataclass(frozen=True, slots=True)
class CustomerDialled:
    """A callback's agent answered and is on the line; now the customer's phone rings."""

    call_id: str
    agent: str
    queue: str
    kind: CallKind
    at: float


@dataclass(frozen=True, slots=True)
class CallConnected:
    """Agent and caller are talking (for a callback: the customer answered)."""

    call_id: str
    agent: str
    queue: str
    agent_channel: str
    entered_at: float
    queued_at: float
    ring_seconds: float
    kind: CallKind
    at: float

    @property
    def hold_seconds(self) -> float:
        return round(self.at - self.entered_at, 3)


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A call that reached an agent (or was being dialled back) is over.

    `answered_at` is None for a callback whose customer never answered.
    """

    call_id: str
    queue: str
    agent: str | None
    side: HangupSide
    disposition: Disposition
    answered_at: float | None
    queued_at: float
    origposition: int
    kind: CallKind
    at: float

    @property
    def talk_seconds(self) -> float | None:
        return None if self.answered_at is None else round(self.at - self.answered_at, 3)


@dataclass(frozen=True, slots=True)
class AgentQueuesChanged:
    """The queues an agent serves changed without a change of state: a supervisor put on
    or taken off the queues (by hand or a rule), an agent moved, a reload."""

    agent: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    paused: bool  # not ready at the time (queue_log writes ADDMEMBER with PAUSED)
    at: float


Fact = (
    CallArrived
    | CallQueued
    | CallRefused
    | CallMoved
    | CallLeft
    | OfferEnded
    | CustomerDialled
    | CallConnected
    | CallEnded
    | AgentQueuesChanged
)
