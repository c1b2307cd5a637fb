"""Turn what the core did into each call's timeline and Asterisk `queue_log` lines.

Fed exactly what an engine observer sees - `(event, decisions, now)` after every core step -
and nothing else, so the same steps replayed give the same output: no clock, no I/O. It is a
plain projection of the core's facts (`acd.core.facts`): where a caller stood in line, why an
offer ended, which queues an agent serves all come with the fact. The one thing it keeps is a
call's arrival until the call is in a queue, because the `enter` row names the queue the call
ended up in, after any doors that turned it away.

The `queue_log` lines follow app_queue's format, `epoch|callid|queue|agent|event|data...`,
with the field order Asterisk writes (see `apps/app_queue.c`):

- ENTERQUEUE `url|callerid|position`; ABANDON, EXITWITHTIMEOUT, EXITEMPTY
  `position|origposition|waittime`; EXITWITHKEY `key|position|origposition|waittime` (a caller
  who chose virtual hold);
- RINGNOANSWER `ringtime` in ms (every failed offer: no answer, busy, unreachable, rejected),
  RINGCANCELED `ringtime` in ms (the caller hung up while the agent's phone rang);
- CONNECT `holdtime|bridged channel|ringtime`; COMPLETECALLER / COMPLETEAGENT
  `holdtime|calltime|origposition`;
- ADDMEMBER / REMOVEMEMBER (callid "MANAGER") on login and logout, PAUSEALL / UNPAUSEALL then
  PAUSE / UNPAUSE `reason` per queue, as a pause without a queue name writes them.

Times are whole seconds of epoch differences, as app_queue computes them with `time(NULL)`;
hold and wait times count from when the caller reached that queue, since each Queue() starts
its own clock. The agent field is the member name app_queue would write for our agents:
`PJSIP/<number>`. Asterisk names a member by its interface unless given another name, the
engine rings agents on exactly that interface, and Asterisk's own CDR and CEL records name the
agent leg the same way, so reports join up. Agents are members of the queues whose skills they
fit (expansion tiers included); supervisors only while put on the queues.

Two lines are not vanilla app_queue: a caller turned away at the door by a full queue or a
queue without staff gets FULL or JOINEMPTY with no data (as Wazo's Asterisk writes them),
since app_queue itself writes nothing and reports would never see the call. The bridged
channel in CONNECT is the agent leg's channel name (the core is told the name, not the
uniqueid). Calls the dialer places (scheduled callbacks) are not queue calls and write no lines;
a virtual-hold caller's line ends with EXITWITHKEY. Membership follows the queues the core says
an agent serves, so a supervisor's move (`acd agent move`) or a rule calling supervisors in
writes ADDMEMBER / REMOVEMEMBER for exactly those queues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from acd.config.models import Config
from acd.core import events as ev
from acd.core.decisions import AgentStateChanged, CallbackAttempt, Decision, Offer
from acd.core.facts import (
    AgentQueuesChanged,
    CallArrived,
    CallConnected,
    CallEnded,
    CallLeft,
    CallMoved,
    CallQueued,
    CallRefused,
    OfferEnded,
)
from acd.core.vocab import CallKind, ExitReason, LeaveReason, OfferFailure
from acd.records.items import CallEvent, EventValue

_DOOR_LINES = {ExitReason.FULL: "FULL", ExitReason.EMPTY: "JOINEMPTY"}
_EXIT_LINES = {
    ExitReason.TIMEOUT: "EXITWITHTIMEOUT",
    ExitReason.EMPTY: "EXITEMPTY",
    ExitReason.FULL: "FULL",
    ExitReason.REMOVED: "EXITEMPTY",
}
_LEAVE_LINES = {
    LeaveReason.ABANDONED: "ABANDON",
    LeaveReason.TIMEOUT: "EXITWITHTIMEOUT",
    LeaveReason.EMPTY: "EXITEMPTY",
    LeaveReason.FULL: "FULL",
}

Line = str


def member(agent: str) -> str:
    """The queue member name app_queue would log for an agent: its PJSIP interface."""
    return f"PJSIP/{agent}"


@dataclass(frozen=True, slots=True)
class Step:
    """What one core step adds: timeline records for the writer, lines for the queue_log."""

    events: list[CallEvent] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


class Timeline:
    """The projection; one per engine, fed every step in order."""

    def __init__(self, get_config: Callable[[], Config]) -> None:
        self._get_config = get_config  # for the callback key EXITWITHKEY names
        # Arrived, not yet in a queue: the `enter` row waits for the queue the call ends in.
        self._arrivals: dict[str, CallArrived] = {}

    def feed(self, event: ev.Event, decisions: Iterable[Decision], now: float) -> Step:
        out = Step()
        for decision in decisions:
            match decision:
                case CallArrived():
                    self._arrivals[decision.call_id] = decision
                case CallRefused() if decision.kind is CallKind.INBOUND:
                    line = _DOOR_LINES[decision.reason]
                    out.lines.append(
                        _line(decision.at, decision.call_id, decision.queue, "NONE", line, "")
                    )
                case CallQueued():
                    self._queued(decision, out)
                case CallMoved():
                    self._moved(decision, out)
                case CallLeft():
                    self._left(decision, out)
                case Offer():
                    self._offer(decision, now, out)
                case OfferEnded():
                    self._offer_ended(decision, out)
                case CallConnected():
                    self._connected(decision, out)
                case CallEnded():
                    self._ended(decision, out)
                case AgentStateChanged():
                    out.lines.extend(_member_lines(decision))
                case AgentQueuesChanged():
                    out.lines.extend(_membership_lines(decision))
                case CallbackAttempt():
                    out.events.append(_attempt_event(decision))
                case _:
                    pass
        return out

    # -- calls ---------------------------------------------------------------------------
    def _enter(self, call_id: str, queue: str, out: Step, position: int | None) -> None:
        """The call's first row, once it is in a queue (or gone without ever being in one)."""
        arrival = self._arrivals.pop(call_id, None)
        if arrival is None:
            return
        data: list[tuple[str, EventValue]] = [
            ("hotline", arrival.hotline),
            ("priority", arrival.priority),
        ]
        if arrival.queue != queue:
            data.append(("requested", arrival.queue))
        if position is not None:
            data.append(("position", position))
        out.events.append(CallEvent(call_id, "enter", arrival.entered_at, queue, None, tuple(data)))

    def _queued(self, fact: CallQueued, out: Step) -> None:
        logged = fact.kind is CallKind.INBOUND
        self._enter(fact.call_id, fact.queue, out, fact.position if logged else None)
        if logged:
            out.lines.append(
                _line(
                    fact.at,
                    fact.call_id,
                    fact.queue,
                    "NONE",
                    "ENTERQUEUE",
                    "",
                    _field(fact.caller),
                    fact.position,
                )
            )

    def _moved(self, fact: CallMoved, out: Step) -> None:
        if fact.call_id in self._arrivals:
            return  # turned away at a door on arrival: the `enter` row says where it went
        data = (("from", fact.from_queue), ("reason", fact.reason.value))
        out.events.append(CallEvent(fact.call_id, "move", fact.at, fact.to_queue, None, data))
        if fact.kind is CallKind.INBOUND and fact.position > 0:
            out.lines.append(
                _line(
                    fact.at,
                    fact.call_id,
                    fact.from_queue,
                    "NONE",
                    _EXIT_LINES[fact.reason],
                    fact.position,
                    fact.origposition,
                    _waited(fact.at, fact.queued_at),
                )
            )

    def _left(self, fact: CallLeft, out: Step) -> None:
        self._enter(fact.call_id, fact.queue, out, None)
        logged = fact.kind is CallKind.INBOUND and fact.position > 0
        waited = _waited(fact.at, fact.queued_at)
        call_id, queue = fact.call_id, fact.queue
        if fact.reason is LeaveReason.VIRTUAL_HOLD:
            data: tuple[tuple[str, EventValue], ...] = (("reason", "virtual-hold"),)
            out.events.append(CallEvent(call_id, "exit", fact.at, queue, None, data))
            if logged:
                key = self._get_config().callbacks.key
                out.lines.append(
                    _line(
                        fact.at,
                        call_id,
                        queue,
                        "NONE",
                        "EXITWITHKEY",
                        key,
                        fact.position,
                        fact.origposition,
                        waited,
                    )
                )
            return
        wait = round(fact.at - fact.entered_at, 3)
        if fact.reason is LeaveReason.ABANDONED:
            data = (("side", fact.side.value), ("wait_seconds", wait))
            out.events.append(CallEvent(call_id, "abandon", fact.at, queue, None, data))
        else:
            data = (("reason", fact.reason.value), ("wait_seconds", wait))
            out.events.append(CallEvent(call_id, "exit", fact.at, queue, None, data))
        if logged:
            out.lines.append(
                _line(
                    fact.at,
                    call_id,
                    queue,
                    "NONE",
                    _LEAVE_LINES[fact.reason],
                    fact.position,
                    fact.origposition,
                    waited,
                )
            )

    def _offer(self, offer: Offer, now: float, out: Step) -> None:
        self._enter(offer.call_id, offer.queue, out, None)  # a scheduled callback's first offer
        data = (("attempt", offer.attempt), ("ring_timeout", offer.ring_timeout))
        out.events.append(CallEvent(offer.call_id, "offer", now, offer.queue, offer.agent, data))

    def _offer_ended(self, fact: OfferEnded, out: Step) -> None:
        data = (("reason", fact.reason.value), ("ring_seconds", fact.ring_seconds))
        out.events.append(
            CallEvent(fact.call_id, "offer-failed", fact.at, fact.queue, fact.agent, data)
        )
        if fact.kind is CallKind.INBOUND:
            cancelled = fact.reason is OfferFailure.CALLER_HUNG_UP
            out.lines.append(
                _line(
                    fact.at,
                    fact.call_id,
                    fact.queue,
                    member(fact.agent),
                    "RINGCANCELED" if cancelled else "RINGNOANSWER",
                    round(fact.ring_seconds * 1000),
                )
            )

    def _connected(self, fact: CallConnected, out: Step) -> None:
        data = (("hold_seconds", fact.hold_seconds), ("ring_seconds", fact.ring_seconds))
        out.events.append(CallEvent(fact.call_id, "connect", fact.at, fact.queue, fact.agent, data))
        if fact.kind is CallKind.INBOUND:
            out.lines.append(
                _line(
                    fact.at,
                    fact.call_id,
                    fact.queue,
                    member(fact.agent),
                    "CONNECT",
                    _waited(fact.at, fact.queued_at),
                    _field(fact.agent_channel),
                    int(fact.ring_seconds),
                )
            )

    def _ended(self, fact: CallEnded, out: Step) -> None:
        call_id, queue = fact.call_id, fact.queue
        if fact.answered_at is None:
            data: tuple[tuple[str, EventValue], ...] = (
                ("side", fact.side.value),
                ("disposition", fact.disposition.value),
            )
            out.events.append(CallEvent(call_id, "hangup", fact.at, queue, fact.agent, data))
            return
        data = (("side", fact.side.value), ("talk_seconds", fact.talk_seconds))
        out.events.append(CallEvent(call_id, "hangup", fact.at, queue, fact.agent, data))
        if fact.kind is CallKind.INBOUND and fact.agent is not None:
            out.lines.append(
                _line(
                    fact.at,
                    call_id,
                    queue,
                    member(fact.agent),
                    "COMPLETEAGENT" if fact.side == "agent" else "COMPLETECALLER",
                    _waited(fact.answered_at, fact.queued_at),
                    int(fact.at) - int(fact.answered_at),
                    fact.origposition,
                )
            )


# -- agents ------------------------------------------------------------------------------
def _member_lines(change: AgentStateChanged) -> list[Line]:
    """Membership and pause lines for an agent's change of state, per queue it serves."""
    queues = change.queues
    if not queues:
        return []
    name, at = member(change.agent), change.at
    if change.old == "logged-out":
        return [_line(at, "MANAGER", q, name, "ADDMEMBER", "") for q in queues]
    if change.new == "logged-out":
        return [_line(at, "MANAGER", q, name, "REMOVEMEMBER", "") for q in queues]
    if change.new == "not-ready":
        reason = _field(change.reason or "")
        return [
            _line(at, "NONE", "NONE", name, "PAUSEALL", ""),
            *(_line(at, "NONE", q, name, "PAUSE", reason) for q in queues),
        ]
    if change.old == "not-ready":
        return [
            _line(at, "NONE", "NONE", name, "UNPAUSEALL", ""),
            *(_line(at, "NONE", q, name, "UNPAUSE", "") for q in queues),
        ]
    return []


def _membership_lines(change: AgentQueuesChanged) -> list[Line]:
    """A logged-in agent put on or taken off queues: ADDMEMBER (PAUSED when not ready) and
    REMOVEMEMBER, as `queue add member` / `queue remove member` write them."""
    name, at = member(change.agent), change.at
    paused = "PAUSED" if change.paused else ""
    added = [q for q in change.new if q not in change.old]
    removed = [q for q in change.old if q not in change.new]
    return [
        *(_line(at, "MANAGER", q, name, "REMOVEMEMBER", "") for q in removed),
        *(_line(at, "MANAGER", q, name, "ADDMEMBER", paused) for q in added),
    ]


def _attempt_event(attempt: CallbackAttempt) -> CallEvent:
    return CallEvent(
        attempt.call_id,
        "callback-attempt",
        attempt.at,
        attempt.queue,
        attempt.agent,
        (
            ("callback_id", attempt.callback_id),
            ("kind", attempt.kind),
            ("attempt", attempt.attempt),
            ("outcome", attempt.outcome),
        ),
    )


def _waited(now: float, since: float) -> int:
    """Whole seconds between two times, as app_queue computes them from `time(NULL)`."""
    return int(now) - int(since)


def _field(text: str) -> str:
    """A value safe inside one queue_log field: no separators, no line breaks."""
    return text.replace("|", "_").replace("\n", " ").replace("\r", " ")


def _line(at: float, call_id: str, queue: str, agent: str, name: str, *data: object) -> Line:
    parts = [str(int(at)), _field(call_id), _field(queue), agent, name]
    parts += [str(value) for value in data]
    return "|".join(parts)


Submit = Callable[[CallEvent], None]
Lines = Callable[[list[Line]], None]


def records_observer(
    timeline: Timeline, submit: Submit, write_lines: Lines | None
) -> Callable[[ev.Event, list[Decision], float], None]:
    """The engine observer: each step through the projection, the timeline to the record
    writer, the lines to the queue_log writer (None: no queue_log)."""

    def observe(event: ev.Event, decisions: list[Decision], now: float) -> None:
        step = timeline.feed(event, decisions, now)
        for record in step.events:
            submit(record)
        if write_lines is not None and step.lines:
            write_lines(step.lines)

    return observe
