"""Turn what the core did into each call's timeline and Asterisk `queue_log` lines.

Fed exactly what an engine observer sees - `(event, decisions, now)` after every core step -
and nothing else, so the same steps replayed give the same output: no clock, no I/O. What the
decisions leave implicit (where a caller stood in line, when an agent's phone started ringing,
why an offer ended) it keeps per call itself.

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
a virtual-hold caller's line ends with EXITWITHKEY.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from acd.config.models import Config
from acd.core import events as ev
from acd.core.decisions import (
    AgentStateChanged,
    CallbackAttempt,
    CallEvent,
    CallRecord,
    Decision,
    EventValue,
    Offer,
)
from acd.core.routing import plan_queue

#: Events after which a call moved out of its queue means the queue lost its last agent.
_STAFF_EVENTS = (ev.AgentLogout, ev.AgentPause, ev.TakeCalls, ev.DeviceState)
_DOOR_LINES = {"full": "FULL", "empty": "JOINEMPTY"}
_EXIT_LINES = {"timeout": "EXITWITHTIMEOUT", "empty": "EXITEMPTY", "full": "FULL"}

Line = str
#: Position key in a queue's line: higher priority first, then earlier entry, then arrival.
_Key = tuple[int, float, int]


def member(agent: str) -> str:
    """The queue member name app_queue would log for an agent: its PJSIP interface."""
    return f"PJSIP/{agent}"


@dataclass(frozen=True, slots=True)
class Step:
    """What one core step adds: timeline records for the writer, lines for the queue_log."""

    events: list[CallEvent]
    lines: list[Line]


@dataclass(slots=True)
class _Call:
    record: CallRecord
    key: _Key
    queue_start: float  # reached its current queue (queue_log hold and wait times)
    origposition: int = 0
    logged: bool = False  # an inbound caller in one of Asterisk's queues: queue_log lines
    ring_start: float | None = None
    ring_timeout: float | None = None
    connected: bool = False


@dataclass(slots=True)
class _Agent:
    state: str = "logged-out"
    on_queues: bool = False  # a supervisor put on the queues


@dataclass(slots=True)
class _Out:
    events: list[CallEvent] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    # An auto-pause comes out of the core before the failed offer's record; app_queue logs
    # RINGNOANSWER first, so its PAUSE lines wait for the next call line.
    held: list[Line] = field(default_factory=list)

    def call_line(self, line: Line) -> None:
        self.lines.append(line)
        self.lines.extend(self.held)
        self.held.clear()


class Timeline:
    """The translator; one per engine, fed every step in order."""

    def __init__(self, get_config: Callable[[], Config]) -> None:
        self._get_config = get_config
        self._calls: dict[str, _Call] = {}
        self._lines: dict[str, list[tuple[_Key, str]]] = {}  # queue -> its callers, in order
        self._agents: dict[str, _Agent] = {}
        self._seq = itertools.count()
        self._members_of: tuple[Config, dict[str, tuple[str, ...]]] | None = None

    def feed(self, event: ev.Event, decisions: Iterable[Decision], now: float) -> Step:
        out = _Out()
        decisions = list(decisions)
        offers = {d.call_id: d for d in decisions if isinstance(d, Offer)}
        for decision in decisions:
            if isinstance(decision, CallRecord):
                self._record(decision, event, now, offers.get(decision.call_id), out)
            elif isinstance(decision, AgentStateChanged):
                self._agent_changed(decision, out)
            elif isinstance(decision, CallbackAttempt):
                out.events.append(_attempt_event(decision))
        if isinstance(event, ev.TakeCalls):
            self._take_calls(event, now, out)
        out.lines.extend(out.held)
        return Step(out.events, out.lines)

    # -- calls ---------------------------------------------------------------------------
    def _record(
        self,
        record: CallRecord,
        event: ev.Event,
        now: float,
        offer: Offer | None,
        out: _Out,
    ) -> None:
        call = self._calls.get(record.call_id)
        if call is None:
            call = self._enter(record, event, now, out)
        elif record.queue != call.record.queue:
            self._move(call, record, event, now, out)
        if record.offers > call.record.offers:
            call.ring_start = now
            call.ring_timeout = offer.ring_timeout if offer is not None else None
            data: list[tuple[str, EventValue]] = [("attempt", record.offers)]
            if call.ring_timeout is not None:
                data.append(("ring_timeout", call.ring_timeout))
            out.events.append(
                CallEvent(record.call_id, "offer", now, record.queue, record.agent, tuple(data))
            )
        elif call.record.disposition == "ringing" and record.disposition == "waiting":
            self._offer_failed(call, _failure(event, record.call_id), now, out)
        if record.answered_at is not None and not call.connected:
            self._connect(call, record, event, now, out)
        if record.kind == "virtual-hold" and call.record.kind == "inbound" and call.logged:
            self._keep_callback(call, record, now, out)
        call.record = record
        if record.ended_at is not None:
            self._end(call, record, now, out)

    def _enter(self, record: CallRecord, event: ev.Event, now: float, out: _Out) -> _Call:
        entered = event if isinstance(event, ev.CallEntered) else None
        if entered is not None and entered.call_id != record.call_id:
            entered = None
        priority = entered.priority if entered is not None else 0
        # Compared with the record below as if the call had been waiting with no offer yet: a
        # callback's first record is already ringing.
        blank = replace(record, agent=None, answered_at=None, disposition="waiting", offers=0)
        call = _Call(
            blank,
            (-priority, record.entered_at, next(self._seq)),
            queue_start=record.entered_at,
            logged=record.kind == "inbound",
        )
        self._calls[record.call_id] = call
        data: list[tuple[str, EventValue]] = [("hotline", record.hotline), ("priority", priority)]
        refused_by = None
        if entered is not None and entered.queue != record.queue:
            refused_by = entered.queue
        if refused_by is not None:
            data.append(("requested", refused_by))
        if call.logged and refused_by is not None:
            self._door(call, refused_by, self._refusal(refused_by), now, out)
        door = record.ended_at is not None and record.disposition in _DOOR_LINES
        if call.logged and not door:
            self._join(call, record.queue, now, out)
            data.append(("position", call.origposition))
        out.events.append(
            CallEvent(record.call_id, "enter", record.entered_at, record.queue, None, tuple(data))
        )
        return call

    def _refusal(self, queue: str) -> str:
        """Why a queue turned a caller away at the door: full if its line was at max."""
        spec = next((q for q in self._get_config().queues if q.name == queue), None)
        waiting = len(self._lines.get(queue, ()))
        if spec is not None and spec.max_waiting is not None and waiting >= spec.max_waiting:
            return "full"
        return "empty"

    def _door(self, call: _Call, queue: str, reason: str, now: float, out: _Out) -> None:
        name = _DOOR_LINES.get(reason)
        if name is not None:
            out.call_line(_line(now, call.record.call_id, queue, "NONE", name, ""))

    def _join(self, call: _Call, queue: str, now: float, out: _Out) -> None:
        line = self._lines.setdefault(queue, [])
        bisect.insort(line, (call.key, call.record.call_id))
        call.origposition = self._position(call, queue)
        out.call_line(
            _line(
                now,
                call.record.call_id,
                queue,
                "NONE",
                "ENTERQUEUE",
                "",
                _field(call.record.caller),
                call.origposition,
            )
        )

    def _position(self, call: _Call, queue: str) -> int:
        line = self._lines.get(queue, [])
        index = bisect.bisect_left(line, (call.key, call.record.call_id))
        return index + 1

    def _leave_line(self, call: _Call, queue: str) -> int:
        """Take the caller out of `queue`'s line; its position there just before."""
        line = self._lines.get(queue, [])
        entry = (call.key, call.record.call_id)
        index = bisect.bisect_left(line, entry)
        if index < len(line) and line[index] == entry:
            del line[index]
            return index + 1
        return 0

    def _waited(self, call: _Call, now: float) -> int:
        return int(now) - int(call.queue_start)

    def _move(
        self, call: _Call, record: CallRecord, event: ev.Event, now: float, out: _Out
    ) -> None:
        old = call.record.queue
        reason = "empty" if isinstance(event, _STAFF_EVENTS) else "timeout"
        out.events.append(
            CallEvent(
                record.call_id, "move", now, record.queue, None, (("from", old), ("reason", reason))
            )
        )
        if not call.logged:
            return
        position = self._leave_line(call, old)
        out.call_line(
            _line(
                now,
                record.call_id,
                old,
                "NONE",
                _EXIT_LINES[reason],
                position,
                call.origposition,
                self._waited(call, now),
            )
        )
        call.queue_start = now
        if record.ended_at is not None and record.disposition in _DOOR_LINES:
            self._door(call, record.queue, record.disposition, now, out)
            call.logged = False  # never joined the new queue
        else:
            self._join(call, record.queue, now, out)

    def _offer_failed(self, call: _Call, reason: str, now: float, out: _Out) -> None:
        agent = call.record.agent
        ring = now - call.ring_start if call.ring_start is not None else 0.0
        out.events.append(
            CallEvent(
                call.record.call_id,
                "offer-failed",
                now,
                call.record.queue,
                agent,
                (("reason", reason), ("ring_seconds", round(ring, 3))),
            )
        )
        if call.logged and agent is not None:
            name = "RINGCANCELED" if reason == "caller-hung-up" else "RINGNOANSWER"
            out.call_line(
                _line(
                    now,
                    call.record.call_id,
                    call.record.queue,
                    member(agent),
                    name,
                    round(ring * 1000),
                )
            )
        call.ring_start = None

    def _connect(
        self, call: _Call, record: CallRecord, event: ev.Event, now: float, out: _Out
    ) -> None:
        call.connected = True
        assert record.answered_at is not None
        ring = record.answered_at - call.ring_start if call.ring_start is not None else 0.0
        out.events.append(
            CallEvent(
                record.call_id,
                "connect",
                record.answered_at,
                record.queue,
                record.agent,
                (
                    ("hold_seconds", round(record.answered_at - record.entered_at, 3)),
                    ("ring_seconds", round(ring, 3)),
                ),
            )
        )
        if not call.logged or record.agent is None:
            return
        self._leave_line(call, record.queue)
        channel = event.agent_channel if isinstance(event, ev.OfferAnswered) else ""
        out.call_line(
            _line(
                now,
                record.call_id,
                record.queue,
                member(record.agent),
                "CONNECT",
                int(record.answered_at) - int(call.queue_start),
                _field(channel),
                int(ring),
            )
        )

    def _keep_callback(self, call: _Call, record: CallRecord, now: float, out: _Out) -> None:
        """Virtual hold: the caller pressed the callback key and hung up, keeping their place;
        for app_queue they left the queue by a key."""
        out.events.append(
            CallEvent(
                record.call_id, "exit", now, record.queue, None, (("reason", "virtual-hold"),)
            )
        )
        position = self._leave_line(call, record.queue)
        key = self._get_config().callbacks.key
        out.call_line(
            _line(
                now,
                record.call_id,
                record.queue,
                "NONE",
                "EXITWITHKEY",
                key,
                position,
                call.origposition,
                self._waited(call, now),
            )
        )
        call.logged = False

    def _end(self, call: _Call, record: CallRecord, now: float, out: _Out) -> None:
        self._calls.pop(record.call_id, None)
        disposition = record.disposition
        call_id, queue = record.call_id, record.queue
        if call.connected and record.answered_at is not None:
            side = record.hangup_side
            out.events.append(
                CallEvent(
                    call_id,
                    "hangup",
                    now,
                    queue,
                    record.agent,
                    (("side", side), ("talk_seconds", record.talk_seconds)),
                )
            )
            if call.logged and record.agent is not None:
                name = "COMPLETEAGENT" if side == "agent" else "COMPLETECALLER"
                out.call_line(
                    _line(
                        now,
                        call_id,
                        queue,
                        member(record.agent),
                        name,
                        int(record.answered_at) - int(call.queue_start),
                        int(now) - int(record.answered_at),
                        call.origposition,
                    )
                )
            return
        if disposition == "abandoned":
            if call.ring_start is not None:
                self._offer_failed(call, "caller-hung-up", now, out)
            out.events.append(
                CallEvent(
                    call_id,
                    "abandon",
                    now,
                    queue,
                    None,
                    (("side", record.hangup_side), ("wait_seconds", record.wait_seconds)),
                )
            )
            self._exit_line(call, "ABANDON", now, out)
            return
        if disposition in _EXIT_LINES:
            out.events.append(
                CallEvent(
                    call_id,
                    "exit",
                    now,
                    queue,
                    None,
                    (("reason", disposition), ("wait_seconds", record.wait_seconds)),
                )
            )
            if self._leave_line_if_in(call, queue):
                self._exit_line(call, _EXIT_LINES[disposition], now, out)
            elif call.logged:
                self._door(call, queue, disposition, now, out)
            return
        out.events.append(
            CallEvent(
                call_id,
                "hangup",
                now,
                queue,
                record.agent,
                (("side", record.hangup_side), ("disposition", disposition)),
            )
        )
        self._leave_line(call, queue)

    def _leave_line_if_in(self, call: _Call, queue: str) -> bool:
        line = self._lines.get(queue, [])
        entry = (call.key, call.record.call_id)
        index = bisect.bisect_left(line, entry)
        return index < len(line) and line[index] == entry

    def _exit_line(self, call: _Call, name: str, now: float, out: _Out) -> None:
        queue = call.record.queue
        position = self._leave_line(call, queue)
        if not call.logged or position == 0:
            return
        out.call_line(
            _line(
                now,
                call.record.call_id,
                queue,
                "NONE",
                name,
                position,
                call.origposition,
                self._waited(call, now),
            )
        )

    # -- agents --------------------------------------------------------------------------
    def _members(self) -> dict[str, tuple[str, ...]]:
        """Each agent's queues, in config order; recomputed when the config is replaced."""
        config = self._get_config()
        if self._members_of is None or self._members_of[0] is not config:
            plans = [(queue.name, plan_queue(queue)) for queue in config.queues]
            members = {
                spec.number: tuple(
                    name for name, plan in plans if plan.entry(dict(spec.skills)) is not None
                )
                for spec in config.agents
            }
            self._members_of = (config, members)
        return self._members_of[1]

    def _queues_of(self, agent: str) -> tuple[str, ...]:
        """The queues the agent is a member of now: none for a supervisor off the queues."""
        spec = next((a for a in self._get_config().agents if a.number == agent), None)
        if spec is not None and spec.role == "supervisor" and not self._agent(agent).on_queues:
            return ()
        return self._members().get(agent, ())

    def _agent(self, agent: str) -> _Agent:
        return self._agents.setdefault(agent, _Agent())

    def _agent_changed(self, change: AgentStateChanged, out: _Out) -> None:
        state = self._agent(change.agent)
        state.state = change.new
        queues = self._queues_of(change.agent)
        if not queues:
            return
        name = member(change.agent)
        at = change.at
        lines: list[Line] = []
        if change.old == "logged-out":
            lines += [_line(at, "MANAGER", q, name, "ADDMEMBER", "") for q in queues]
        elif change.new == "logged-out":
            lines += [_line(at, "MANAGER", q, name, "REMOVEMEMBER", "") for q in queues]
        elif change.new == "not-ready":
            lines.append(_line(at, "NONE", "NONE", name, "PAUSEALL", ""))
            reason = _field(change.reason or "")
            lines += [_line(at, "NONE", q, name, "PAUSE", reason) for q in queues]
        elif change.old == "not-ready":
            lines.append(_line(at, "NONE", "NONE", name, "UNPAUSEALL", ""))
            lines += [_line(at, "NONE", q, name, "UNPAUSE", "") for q in queues]
        if change.old == "reserved":
            out.held.extend(lines)
        else:
            out.lines.extend(lines)

    def _take_calls(self, event: ev.TakeCalls, now: float, out: _Out) -> None:
        state = self._agent(event.agent)
        spec = next((a for a in self._get_config().agents if a.number == event.agent), None)
        if spec is None or spec.role != "supervisor" or state.on_queues == event.enabled:
            state.on_queues = event.enabled
            return
        if state.state == "logged-out":
            state.on_queues = event.enabled
            return
        queues = self._members().get(event.agent, ())
        name = member(event.agent)
        if event.enabled:
            state.on_queues = True
            paused = "PAUSED" if state.state == "not-ready" else ""
            out.lines += [_line(now, "MANAGER", q, name, "ADDMEMBER", paused) for q in queues]
        else:
            state.on_queues = False
            out.lines += [_line(now, "MANAGER", q, name, "REMOVEMEMBER", "") for q in queues]


def _failure(event: ev.Event, call_id: str) -> str:
    """Why an offer ended, from the event that ended it; a ring timer firing is no answer."""
    if isinstance(event, ev.OfferFailed) and event.call_id == call_id:
        return event.reason
    if isinstance(event, ev.AgentLegHungUp) and event.call_id == call_id:
        return "rejected"
    return "no-answer"


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
    """The engine observer: each step through the translator, the timeline to the record
    writer, the lines to the queue_log writer (None: no queue_log)."""

    def observe(event: ev.Event, decisions: list[Decision], now: float) -> None:
        step = timeline.feed(event, decisions, now)
        for record in step.events:
            submit(record)
        if write_lines is not None and step.lines:
            write_lines(step.lines)

    return observe
