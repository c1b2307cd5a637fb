"""The ACD's state and rules, fed events and a clock, answering with decisions.

No I/O, no asyncio, no wall clock: the engine's consumer task calls `handle(event, now)` for
every event in order and carries out what comes back. That is what lets the same core run
live, in tests that replay hours in milliseconds, and in simulation.

Routing rules (the seeds: calls go to agents with the matching skill, next caller first):
- Waiting calls are offered by caller priority (higher first), then longest waiting.
- An agent is available when ready, its phone is registered and not busy, and it is on the
  queues (role "agent", or a supervisor put there by `TakeCalls`).
- Among the available agents who fit a call, the narrowest tier wins (agents who meet the
  queue's own rule before those let in by expansion), then the highest skill match, then the
  queue's strategy: longest-idle, fewest-calls, least-occupied or round-robin.
- Expansion steps, max wait, max queue length and the empty-queue rules take a call further or
  out; a call whose agent is ringing is left alone by them until the offer settles.

Cost: every decision touches a handful of ordered indexes (see `acd.core.index`), one per
queue and tier, never a scan of all agents or calls; timers sit in one heap. The invariant
that makes this enough: after each `handle()` no available agent fits a waiting call, so only
what changed during the event (agents that became available, calls that joined a line or
moved up a tier, both kept as "dirty") can form a new pair.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import replace
from typing import Any

from acd.config.models import Config
from acd.config.queues import QueueExit
from acd.core import events as ev
from acd.core.decisions import (
    AgentRecalled,
    AgentStateChanged,
    Announce,
    CallbackAttempt,
    CallbackReleased,
    CallbackRequested,
    CallRecord,
    CancelOffer,
    Decision,
    ExitQueue,
    Offer,
)
from acd.core.entities import (
    BUSY,
    UNREACHABLE,
    Agent,
    Call,
    CallStatus,
    QueueState,
)
from acd.core.estimate import HandleTime, expected_wait
from acd.core.facts import (
    AgentQueuesChanged,
    CallArrived,
    CallConnected,
    CallEnded,
    CallLeft,
    CallMoved,
    CallQueued,
    CallRefused,
    CustomerDialled,
    OfferEnded,
    QueueCause,
)
from acd.core.index import Ordered, WaitingLine
from acd.core.metrics import DEFAULT_WINDOW_SECONDS, QueueMetrics, ServiceLevels, with_centre
from acd.core.read import AgentView, CallView, agent_view, call_view
from acd.core.routing import QueueKey
from acd.core.rules import Effects, RuleBook
from acd.core.views import snapshot
from acd.core.vocab import (
    CallKind,
    Disposition,
    ExitReason,
    HangupSide,
    LeaveReason,
    OfferFailure,
)
from agents.state import AgentState, IllegalTransition, Trigger, next_state

# Slack on top of the ring timeout before the core gives up on an offer by itself, in case
# Asterisk's answer to the originate never arrives.
RING_GRACE = 10.0

# (due, seq, kind, agent number or call id, token of the subject's timer when set)
Timer = tuple[float, int, str, str, int]
AGENT_TIMERS = frozenset({"wrapup", "ring"})


class Core:
    def __init__(self, config: Config) -> None:
        self._seq = itertools.count()
        self._timers: list[Timer] = []
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, QueueState] = {}
        self.lines: dict[str, WaitingLine] = {}
        self._handle_times: dict[str, HandleTime] = {}
        # What changed since the core was last settled (ordered, so decisions are repeatable).
        self._dirty_agents: dict[str, None] = {}
        self._dirty_calls: dict[str, None] = {}
        self._stale = True
        # Scheduled callbacks fed by the dialer and not dialled yet, oldest request first;
        # they are dialled only when an agent is free with no caller waiting for it.
        self._pending_callbacks: Ordered[tuple[float, int, str]] = Ordered()
        self._callback_ids: dict[int, str] = {}  # callback row -> its call while in the core
        # Dials made per callback row, so a poll that read the records before they caught up
        # with a dial (same attempt count) cannot make the core dial the customer again.
        self._dialled: dict[int, int] = {}
        self._on_callbacks: set[str] = set()  # scheduled callbacks ringing an agent or dialled
        # What the queue-depth rules in force ask for (see `_apply_rules`).
        self.callbacks_suspended = False
        self.breaks_suspended = False
        self.rule_callback_cap: int | None = None
        self.rules = RuleBook(config.rules)
        self.effects = Effects()
        self._new_rules: list[Any] | None = None  # a reload's rules, adopted with the clock
        self._service: dict[str, ServiceLevels] = {}
        self._available = 0  # agents in the indexes: the centre's ready agents
        self.reconfigure(config)

    def reconfigure(self, config: Config) -> None:
        """Adopt a new config; agents and calls already known keep their state.

        The indexes are rebuilt at the start of the next `handle()`, which has the clock.
        """
        self.config = config
        self.queues = {}
        for queue in config.queues:
            handle_time = self._handle_times.get(queue.name)
            if handle_time is None or handle_time.samples == 0:
                handle_time = HandleTime(queue.initial_handle_seconds)
                self._handle_times[queue.name] = handle_time
            self.queues[queue.name] = QueueState(queue, handle_time)
        self.lines = {name: state.line for name, state in self.queues.items()}
        # Rules keep their clocks across a reload unless they changed (see RuleBook); adopted
        # at the next event, which brings the time.
        self._new_rules = list(config.rules)
        windows = RuleBook(config.rules).service_windows() or (DEFAULT_WINDOW_SECONDS,)
        for queue in config.queues:
            kept = self._service.get(queue.name)
            if (
                kept is None
                or kept.target_seconds != queue.service_level_seconds
                or tuple(kept.window_seconds) != windows
            ):
                self._service[queue.name] = ServiceLevels(queue.service_level_seconds, windows)
        for spec in config.agents:
            agent = self.agents.get(spec.number)
            if agent is None:
                self.agents[spec.number] = Agent(spec.number, dict(spec.skills), spec.role)
            else:
                agent.skills = dict(spec.skills)
                agent.role = spec.role
        self._stale = True

    # -- the one entry point ------------------------------------------------------------
    def handle(self, event: ev.Event, now: float) -> list[Decision]:
        out: list[Decision] = []
        if self._stale:
            self._rebuild(now, out)
        if self._new_rules is not None:
            out.extend(self.rules.reconfigure(self._new_rules, now))
            self._new_rules = None
        match event:
            case ev.CallEntered():
                self._call_entered(event, now, out)
            case ev.CallerHungUp():
                self._caller_hung_up(event.call_id, now, out, side="caller")
            case ev.OfferAnswered():
                self._offer_answered(event, now, out)
            case ev.OfferFailed():
                self._offer_failed(event.call_id, event.agent, event.reason, now, out)
            case ev.AgentLegHungUp():
                self._agent_leg_hung_up(event, now, out)
            case ev.AgentLogin():
                self._transition(self._agent(event.agent), Trigger.LOGIN, now, out)
            case ev.AgentLogout():
                self._transition(self._agent(event.agent), Trigger.LOGOUT, now, out)
            case ev.AgentReady():
                self._transition(self._agent(event.agent), Trigger.READY, now, out)
            case ev.AgentPause():
                agent = self._agent(event.agent)
                if self.breaks_suspended and event.reason in self.config.centre.break_reasons:
                    raise Refused(
                        f"agent {agent.number}: breaks are suspended while the queue is at "
                        "its peak; please stay ready"
                    )
                self._transition(agent, Trigger.PAUSE, now, out, reason=event.reason)
            case ev.TakeCalls():
                agent = self._agent(event.agent)
                agent.takes_calls = event.enabled
                self._queues_changed(agent, now, out)
                self._refresh(agent, now, out)
            case ev.SetQueues():
                agent = self._agent(event.agent)
                unknown = [q for q in event.queues or () if q not in self.queues]
                if unknown:
                    raise Refused(f"no queue {', '.join(unknown)}")
                agent.only_queues = None if event.queues is None else frozenset(event.queues)
                # Where an agent fits is worked out per config; a move is rare enough to
                # rebuild it all, as a reload does, rather than keep a second path in step.
                self.reconfigure(self.config)
                self._rebuild(now, out)
            case ev.KeepCallback():
                self._keep_callback(event.call_id, now, out)
            case ev.CallbackDue():
                self._callback_due(event, now, out)
            case ev.CallbackAnswered():
                self._callback_answered(event.call_id, now, out)
            case ev.CallbackFailed():
                self._callback_failed(event.call_id, event.outcome, now, out)
            case ev.DeviceState():
                if event.agent in self.agents:
                    agent = self.agents[event.agent]
                    agent.device = event.state
                    self._refresh(agent, now, out)
            case ev.Resync():
                gone = [
                    call_id
                    for call_id, call in self.calls.items()
                    if call_id not in event.live_calls and not call.callback
                ]
                for call_id in gone:
                    self._caller_hung_up(call_id, now, out, side="system")
            case ev.Tick():
                pass
        self._fire_timers(now, out)
        self._dispatch(now, out)
        self._dispatch_callbacks(now, out)
        if self._apply_rules(now, out):
            # Supervisors called in, a cap lifted: pair what that freed up at once.
            self._dispatch(now, out)
            self._dispatch_callbacks(now, out)
        return out

    def next_deadline(self) -> float | None:
        while self._timers and not self._timer_live(self._timers[0]):
            heapq.heappop(self._timers)
        soonest = self._timers[0][0] if self._timers else None
        rules = self.rules.next_deadline()
        if rules is not None and (soonest is None or rules < soonest):
            soonest = rules
        return soonest

    # -- the read API: frozen copies for everyone outside the core ----------------------
    def call(self, call_id: str) -> CallView | None:
        call = self.calls.get(call_id)
        return None if call is None else call_view(call)

    def agent(self, number: str) -> AgentView | None:
        agent = self.agents.get(number)
        return None if agent is None else agent_view(agent)

    def agent_numbers(self) -> tuple[str, ...]:
        return tuple(self.agents)

    # -- calls --------------------------------------------------------------------------
    def _call_entered(self, event: ev.CallEntered, now: float, out: list[Decision]) -> None:
        if event.call_id in self.calls:
            return  # the same caller reported twice (e.g. live event and resync)
        queue = event.queue if event.queue in self.queues else self.config.queues[0].name
        entered = event.entered_at if event.entered_at is not None else now
        record = CallRecord(
            call_id=event.call_id,
            caller=event.caller,
            hotline=event.hotline,
            queue=queue,
            entered_at=entered,
        )
        key = QueueKey(-event.priority, entered, next(self._seq))
        call = Call(record, event.channel, key, visited=[queue], requested=event.queue)
        self.calls[event.call_id] = call
        out.append(
            CallArrived(
                event.call_id,
                event.caller,
                event.hotline,
                event.queue,
                event.priority,
                CallKind.INBOUND,
                entered,
                now,
            )
        )
        self._arrive(call, now, out, QueueCause.ENTERED)

    def _arrive(self, call: Call, now: float, out: list[Decision], cause: QueueCause) -> None:
        """The call joins `call.record.queue` (on entry or a move), unless that queue's rules
        turn it away: full (max_waiting), or nobody to take it (join_when_empty=False, and
        leave_when_empty=True too: such a queue never keeps callers while it has no staff)."""
        state = self.queues[call.record.queue]
        queue = state.config
        if queue.max_waiting is not None and len(state.line) >= queue.max_waiting:
            out.append(
                CallRefused(call.record.call_id, queue.name, ExitReason.FULL, _kind(call), now)
            )
            self._leave(call, ExitReason.FULL, queue.on_full, now, out)
            return
        empty_rule = not queue.join_when_empty or queue.leave_when_empty
        if empty_rule and state.capable == 0:
            out.append(
                CallRefused(call.record.call_id, queue.name, ExitReason.EMPTY, _kind(call), now)
            )
            self._leave(call, ExitReason.EMPTY, queue.on_empty, now, out)
            return
        call.stage = 0
        call.queued_at = call.record.entered_at if cause is QueueCause.ENTERED else now
        out.append(call.record)
        position = self._join_present(call, state)
        record = call.record
        out.append(
            CallQueued(
                record.call_id,
                queue.name,
                position,
                cause,
                record.caller,
                record.hotline,
                -call.key.neg_priority,
                _kind(call),
                record.entered_at,
                call.requested or queue.name,
                now,
            )
        )
        self._arm_announce(call, state, now)
        self._catch_up(call, now, out)

    def _catch_up(self, call: Call, now: float, out: list[Decision]) -> None:
        """Bring a waiting call up to date with its wait: max wait, then the expansion steps
        it has reached; index it at its tier and set the timer for its next step."""
        if call.status is not CallStatus.WAITING:
            return  # ringing: settled when the offer is (see `_offer_failed`)
        if call.scheduled:
            return  # not in the line: see `_dispatch_callbacks`
        state = self.queues[call.record.queue]
        queue = state.config
        call.check_token += 1
        entered = call.record.entered_at
        # A caller waiting to be called back is not on the line: max wait cannot apply.
        max_wait = None if call.callback else queue.max_wait_seconds
        # Deadlines are compared as `entered + seconds <= now`, the same sum the timer was
        # set with, so a timer that fires always finds its step due.
        if max_wait is not None and entered + max_wait <= now:
            self._leave(call, ExitReason.TIMEOUT, queue.on_timeout, now, out)
            return
        steps = state.plan.steps
        while call.stage < len(steps) and entered + steps[call.stage].after_seconds <= now:
            step = steps[call.stage]
            call.stage += 1
            if step.overflow is not None and self._can_move(call, step.overflow):
                self._move(call, step.overflow, ExitReason.TIMEOUT, now, out)
                return
        tier = state.plan.stage_tier[call.stage]
        if not call.indexed or tier != call.tier:
            self._unindex_call(call)
            call.tier = tier
            self._index_call(call)
            self._dirty_calls[call.record.call_id] = None
        deadlines = []
        if call.stage < len(steps):
            deadlines.append(entered + steps[call.stage].after_seconds)
        if max_wait is not None:
            deadlines.append(entered + max_wait)
        if deadlines:
            self._push_timer(min(deadlines), "check", call.record.call_id, call.check_token)

    def _can_move(self, call: Call, queue: str) -> bool:
        """A rule may move a call only to a known queue it has not been in (no loops)."""
        return queue in self.queues and queue not in call.visited

    def _move(
        self, call: Call, queue: str, reason: ExitReason, now: float, out: list[Decision]
    ) -> None:
        """Overflow or a queue exit's `queue`: same caller, same entered time and priority."""
        position = self._leave_present(call)
        self._unindex_call(call)
        old = call.record.queue
        call.visited.append(queue)
        call.record = replace(call.record, queue=queue)
        out.append(
            CallMoved(
                call.record.call_id,
                call.channel,
                old,
                queue,
                reason,
                position,
                call.origposition,
                call.queued_at,
                _kind(call),
                now,
            )
        )
        self._arrive(call, now, out, QueueCause.MOVED)

    # -- app_queue's count of callers in a queue (queue_log positions) -------------------
    def _join_present(self, call: Call, state: QueueState) -> int:
        """Count an inbound caller in its queue; its position there (0: not counted)."""
        if call.callback:
            call.origposition = 0
            return 0
        entry = (call.key, call.record.call_id)
        state.present.add(entry)
        call.present = True
        call.origposition = state.present.rank(entry) + 1
        return call.origposition

    def _leave_present(self, call: Call) -> int:
        """The caller is no longer counted in its queue; its position there just before."""
        if not call.present:
            return 0
        call.present = False
        state = self.queues.get(call.record.queue)
        if state is None:
            return 0
        entry = (call.key, call.record.call_id)
        position = state.present.rank(entry) + 1
        state.present.discard(entry)
        return position

    def _leave(
        self,
        call: Call,
        reason: ExitReason,
        rule: QueueExit | None,
        now: float,
        out: list[Decision],
    ) -> None:
        """A queue will not keep the call (`reason`): move it as `rule` says, or say goodbye.

        If the rule names a queue the call cannot go to (unknown, or already visited), the
        caller is let go without a goodbye prompt rather than bounced around forever.
        """
        if rule is not None and rule.queue is not None and self._can_move(call, rule.queue):
            self._move(call, rule.queue, reason, now, out)
            return
        position = self._leave_present(call)
        self._unindex_call(call)
        self._forget(call.record.call_id)
        prompt = rule.goodbye_prompt if rule is not None else None
        record = call.record
        out.append(ExitQueue(record.call_id, call.channel, reason, prompt, record.hotline))
        left = LeaveReason.EMPTY if reason is ExitReason.REMOVED else LeaveReason(reason)
        out.append(self._left(call, left, position, HangupSide.SYSTEM, now, prompt))
        out.append(
            replace(record, ended_at=now, disposition=Disposition(left), hangup_side="system")
        )

    def _left(
        self,
        call: Call,
        reason: LeaveReason,
        position: int,
        side: HangupSide,
        now: float,
        prompt: str | None = None,
    ) -> CallLeft:
        record = call.record
        return CallLeft(
            record.call_id,
            record.queue,
            reason,
            position,
            call.origposition,
            call.queued_at,
            record.entered_at,
            side,
            _kind(call),
            now,
            prompt,
        )

    def _empty_queue(self, state: QueueState, now: float, out: list[Decision]) -> None:
        """leave_when_empty: the queue's last agent logged out; its waiting callers go."""
        for _key, call_id in list(state.line.entries):
            call = self.calls[call_id]
            if not call.callback:  # a promised callback is kept for when staff return
                self._leave(call, ExitReason.EMPTY, state.config.on_empty, now, out)

    def _index_call(self, call: Call) -> None:
        state = self.queues[call.record.queue]
        state.line.add(call.key, call.record.call_id)
        state.groups[call.tier].add((call.key, call.record.call_id))
        call.indexed = True

    def _unindex_call(self, call: Call) -> None:
        if not call.indexed:
            return
        state = self.queues[call.record.queue]
        state.line.remove(call.key, call.record.call_id)
        state.groups[call.tier].discard((call.key, call.record.call_id))
        call.indexed = False

    def _caller_hung_up(self, call_id: str, now: float, out: list[Decision], side: str) -> None:
        call = self.calls.get(call_id)
        if call is None or (call.callback and call.status is CallStatus.WAITING):
            return  # a virtual-hold caller hangs up to be called back: the place is kept
        self._forget(call_id)
        if call.status in (CallStatus.WAITING, CallStatus.RINGING) and not call.callback:
            self._service[call.record.queue].abandoned(now - call.record.entered_at, now)
        hung_up = HangupSide(side)
        if call.status is CallStatus.WAITING:
            position = self._leave_present(call)
            self._unindex_call(call)
            out.append(self._left(call, LeaveReason.ABANDONED, position, hung_up, now))
            out.append(
                replace(call.record, ended_at=now, disposition="abandoned", hangup_side=side)
            )
            return
        agent = self.agents[call.agent] if call.agent else None
        if call.status is CallStatus.RINGING:
            if agent is not None:
                out.append(CancelOffer(call_id, agent.number))
                out.append(self._offer_ended(call, agent.number, OfferFailure.CALLER_HUNG_UP, now))
                agent.call_id = None
                self._transition(agent, Trigger.CANCEL, now, out)
            position = self._leave_present(call)
            out.append(self._left(call, LeaveReason.ABANDONED, position, hung_up, now))
            out.append(
                replace(call.record, ended_at=now, disposition="abandoned", hangup_side=side)
            )
            return
        ended = replace(call.record, ended_at=now, disposition="answered", hangup_side=side)
        out.append(self._ended(call, ended, hung_up, now))
        out.append(ended)
        if agent is not None and agent.call_id == call_id:
            self._end_talk(agent, call, now, out)

    def _offer_answered(self, event: ev.OfferAnswered, now: float, out: list[Decision]) -> None:
        call = self.calls.get(event.call_id)
        agent = self.agents.get(event.agent)
        if agent is None:
            return
        if call is None or call.agent != agent.number or call.status is not CallStatus.RINGING:
            # The caller left while the phone rang and the agent answered anyway: the agent
            # leg is hung up by the adapter; the agent is free again.
            if agent.state is AgentState.RESERVED and agent.call_id == event.call_id:
                agent.call_id = None
                self._transition(agent, Trigger.CANCEL, now, out)
            return
        agent.calls_taken += 1
        if call.callback:
            # The agent is on the line; now the customer's phone rings (`CallbackAnswered`).
            call.status = CallStatus.DIALING
            call.record = replace(call.record, disposition="dialing")
            out.append(
                CustomerDialled(
                    call.record.call_id, agent.number, call.record.queue, _kind(call), now
                )
            )
        else:
            call.status = CallStatus.TALKING
            call.record = replace(call.record, answered_at=now, disposition="answered")
            self._service[call.record.queue].answered(now - call.record.entered_at, now)
            self._leave_present(call)
            out.append(self._connected(call, agent.number, event.agent_channel, now))
        self._transition(agent, Trigger.ANSWER, now, out)
        out.append(call.record)

    def _offer_failed(
        self, call_id: str, number: str, reason: str, now: float, out: list[Decision]
    ) -> None:
        agent = self.agents.get(number)
        if agent is None or agent.call_id != call_id or agent.state is not AgentState.RESERVED:
            return  # a late or duplicate report about an offer already settled
        agent.call_id = None
        call = self.calls.get(call_id)
        queue = self.queues[call.record.queue].config if call is not None else None
        if call is not None and call.status is CallStatus.RINGING:
            out.append(self._offer_ended(call, number, _failure(reason), now))
        if reason == "no-answer" and (queue is None or queue.pause_on_no_answer):
            self._transition(agent, Trigger.NO_ANSWER, now, out, reason="no-answer")
        elif reason == "unavailable":
            self._transition(agent, Trigger.NO_ANSWER, now, out, reason="unreachable")
        else:
            self._transition(agent, Trigger.CANCEL, now, out)
        if call is not None and call.status is CallStatus.RINGING:
            # Back to the head of its queue: its original key still sorts it first. What
            # happened to its queue while it rang (steps, max wait, empty) applies now.
            call.status = CallStatus.WAITING
            call.agent = None
            call.record = replace(call.record, agent=None, disposition="waiting")
            out.append(call.record)
            state = self.queues[call.record.queue]
            if call.scheduled:
                self._on_callbacks.discard(call_id)
                self._pending_callbacks.add((call.key.entered_at, call.key.seq, call_id))
            elif state.config.leave_when_empty and state.capable == 0 and not call.callback:
                self._leave(call, ExitReason.EMPTY, state.config.on_empty, now, out)
            else:
                self._catch_up(call, now, out)

    def _agent_leg_hung_up(self, event: ev.AgentLegHungUp, now: float, out: list[Decision]) -> None:
        agent = self.agents.get(event.agent)
        call = self.calls.get(event.call_id)
        if agent is None or agent.call_id != event.call_id:
            return
        if agent.state is AgentState.RESERVED:
            # Hung up before answering (rejected): treated as a failed offer.
            self._offer_failed(event.call_id, agent.number, "rejected", now, out)
            return
        if call is not None and call.status is CallStatus.DIALING:
            self._callback_failed(event.call_id, "agent-hung-up", now, out)
            return
        if call is not None and call.status is CallStatus.TALKING:
            self._forget(event.call_id)
            ended = replace(call.record, ended_at=now, hangup_side="agent")
            out.append(self._ended(call, ended, HangupSide.AGENT, now))
            out.append(ended)
        self._end_talk(agent, call, now, out)

    # -- facts about offers and talks -----------------------------------------------------
    def _offer_ended(self, call: Call, agent: str, reason: OfferFailure, now: float) -> OfferEnded:
        ring = now - call.ring_started if call.ring_started is not None else 0.0
        call.ring_started = None
        return OfferEnded(
            call.record.call_id, agent, call.record.queue, reason, round(ring, 3), _kind(call), now
        )

    def _connected(self, call: Call, agent: str, channel: str, now: float) -> CallConnected:
        ring = now - call.ring_started if call.ring_started is not None else 0.0
        record = call.record
        return CallConnected(
            record.call_id,
            agent,
            record.queue,
            channel,
            record.entered_at,
            call.queued_at,
            round(ring, 3),
            _kind(call),
            now,
        )

    def _ended(self, call: Call, ended: CallRecord, side: HangupSide, now: float) -> CallEnded:
        return CallEnded(
            ended.call_id,
            ended.queue,
            ended.agent,
            side,
            Disposition(ended.disposition),
            ended.answered_at,
            call.queued_at,
            call.origposition,
            _kind(call),
            now,
        )

    def _end_talk(self, agent: Agent, call: Call | None, now: float, out: list[Decision]) -> None:
        if agent.state is not AgentState.ON_CALL:
            return
        state = self.queues.get(call.record.queue) if call is not None else None
        agent.call_id = None
        if call is not None and state is not None and call.record.answered_at is not None:
            agent.wrapping = (state.name, now - call.record.answered_at)
        self._transition(agent, Trigger.HANGUP, now, out)
        wrapup = state.config.wrapup_seconds if state is not None else 0.0
        self._set_timer(agent, now + wrapup, "wrapup")

    # -- agents -------------------------------------------------------------------------
    def _agent(self, number: str) -> Agent:
        try:
            return self.agents[number]
        except KeyError:
            raise UnknownAgent(number) from None

    def _transition(
        self,
        agent: Agent,
        trigger: Trigger,
        now: float,
        out: list[Decision],
        reason: str | None = None,
    ) -> None:
        new = next_state(agent.number, agent.state, trigger)
        old = agent.state
        if new is old and new is AgentState.READY:
            return  # "ready" while ready: nothing changes, nothing to record
        if old in (AgentState.ON_CALL, AgentState.WRAP_UP) and agent.since is not None:
            agent.busy_seconds += now - agent.since
        if old is AgentState.WRAP_UP and new is not AgentState.WRAP_UP:
            self._close_handle_time(agent, now)
        agent.state = new
        agent.reason = reason if new is AgentState.NOT_READY else None
        agent.since = now
        agent.timer += 1  # any pending timer belonged to the old state
        if trigger is Trigger.LOGIN:
            agent.login_at = now
            agent.busy_seconds = 0.0
        # Idle since it last became ready; a cancelled ring was no work, so it keeps its place.
        if (
            new is AgentState.READY
            and old is not AgentState.READY
            and trigger is not Trigger.CANCEL
        ):
            agent.idle_since = now
        agent.served = agent.serves()
        out.append(
            AgentStateChanged(agent.number, old.value, new.value, agent.reason, now, agent.served)
        )
        self._refresh(agent, now, out)

    def _queues_changed(self, agent: Agent, now: float, out: list[Decision]) -> None:
        """Report a change of the queues a logged-in agent serves (queue_log members)."""
        new = agent.serves()
        if new == agent.served:
            return
        old, agent.served = agent.served, new
        if agent.state is not AgentState.LOGGED_OUT:
            paused = agent.state is AgentState.NOT_READY
            out.append(AgentQueuesChanged(agent.number, old, new, paused, now))

    def _close_handle_time(self, agent: Agent, now: float) -> None:
        """Wrap-up is over: talk + wrap-up of the call is one handle-time sample of its queue."""
        if agent.wrapping is None:
            return
        queue, talk = agent.wrapping
        agent.wrapping = None
        wrapup = now - agent.since if agent.since is not None else 0.0
        handle_time = self._handle_times.get(queue)
        if handle_time is not None:
            handle_time.add(talk + wrapup)

    def _refresh(self, agent: Agent, now: float, out: list[Decision]) -> None:
        """Put the agent into or take it out of the indexes after anything that may change
        its availability, and keep its queues' staff counts (and empty-queue rules) right."""
        available = agent.available()
        if available and not agent.in_index:
            agent.in_index = True
            self._available += 1
            for queue, tier, score in agent.bands:
                state = self.queues[queue]
                key = (-score, self._strategy_key(state, agent, now), agent.number)
                band = state.bands[tier]
                band.members.add(key)
                agent.indexed.append((band, key))
            self._dirty_agents[agent.number] = None
        elif not available and agent.in_index:
            for band, key in agent.indexed:
                band.members.discard(key)
            agent.indexed.clear()
            agent.in_index = False
            self._available -= 1
        counted = agent.state is not AgentState.LOGGED_OUT and agent.on_queues
        if counted == agent.counted:
            return
        agent.counted = counted
        for queue, _tier, _score in agent.bands:
            state = self.queues[queue]
            state.capable += 1 if counted else -1
            if state.capable == 0 and state.config.leave_when_empty:
                self._empty_queue(state, now, out)

    @staticmethod
    def _strategy_key(state: QueueState, agent: Agent, now: float) -> float:
        """The agent's rank under its queue's strategy, fixed while it stays available.

        Each is taken when the agent becomes available and not updated while it waits, so an
        index update happens only on a state change. For longest-idle and fewest-calls that
        is exact (neither changes while an agent is idle). Least-occupied is approximate: the
        occupancy is the one at the moment the agent became available; while agents sit idle
        their shares all fall, and the order among them can drift from the live figures.
        Round-robin needs no key (see `AgentBand.best`).
        """
        strategy = state.config.strategy
        if strategy == "longest-idle":
            return agent.idle_since
        if strategy == "fewest-calls":
            return float(agent.calls_taken)
        if strategy == "least-occupied":
            return agent.occupancy(now)
        return 0.0

    # -- timers -------------------------------------------------------------------------
    def _push_timer(self, at: float, kind: str, subject: str, token: int) -> None:
        heapq.heappush(self._timers, (at, next(self._seq), kind, subject, token))

    def _set_timer(self, agent: Agent, at: float, kind: str) -> None:
        self._push_timer(at, kind, agent.number, agent.timer)

    def _timer_live(self, timer: Timer) -> bool:
        _, _, kind, subject, token = timer
        if kind in AGENT_TIMERS:
            agent = self.agents.get(subject)
            return agent is not None and agent.timer == token
        call = self.calls.get(subject)
        if call is None:
            return False
        return (call.check_token if kind == "check" else call.announce_token) == token

    def _fire_timers(self, now: float, out: list[Decision]) -> None:
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)
            if not self._timer_live(timer):
                continue
            kind, subject = timer[2], timer[3]
            if kind == "wrapup":
                self._transition(self.agents[subject], Trigger.WRAP_UP_DONE, now, out)
            elif kind == "ring":
                agent = self.agents[subject]
                if agent.call_id is not None:
                    self._offer_failed(agent.call_id, agent.number, "no-answer", now, out)
            elif kind == "check":
                self._catch_up(self.calls[subject], now, out)
            elif kind == "announce":
                self._announce(self.calls[subject], now, out)

    # -- announcements ------------------------------------------------------------------
    def _arm_announce(self, call: Call, state: QueueState, now: float) -> None:
        """Next announcement at the next whole multiple of the queue's period of waiting."""
        call.announce_token += 1
        every = state.config.announce_every_seconds
        if every <= 0:
            return
        entered = call.record.entered_at
        periods = max(1, math.floor((now - entered) / every) + 1)
        while entered + periods * every <= now:
            periods += 1
        self._push_timer(
            entered + periods * every, "announce", call.record.call_id, call.announce_token
        )

    def _announce(self, call: Call, now: float, out: list[Decision]) -> None:
        if call.callback:
            return  # nobody on hold to tell
        state = self.queues[call.record.queue]
        if call.status is CallStatus.WAITING:
            position = state.line.position(call.key, call.record.call_id)
            wait = expected_wait(position, state.handle_time.seconds, state.capable)
            out.append(Announce(call.record.call_id, call.channel, position, wait))
        if call.status is not CallStatus.TALKING:
            self._arm_announce(call, state, now)

    # -- routing ------------------------------------------------------------------------
    def _dispatch(self, now: float, out: list[Decision]) -> None:
        """Pair waiting calls with available agents until no pair is left.

        Greedy, best call first: repeatedly the best-keyed waiting call that has any
        available agent who fits goes to its best such agent. Candidates come only from what
        changed: each dirty call itself, and each dirty agent's best fitting call. A heap
        holds them with lazy re-checks; an entry that went stale (call taken, agent taken) is
        dropped or, for an agent still free, replaced by that agent's next best call.
        """
        heap: list[tuple[QueueKey, str, str]] = []  # (call key, call id, dirty agent or "")
        for number in self._dirty_agents:
            self._push_best_call(heap, self.agents[number])
        for call_id in self._dirty_calls:
            call = self.calls.get(call_id)
            if call is not None and call.indexed:
                heap.append((call.key, call_id, ""))
        self._dirty_agents.clear()
        self._dirty_calls.clear()
        heapq.heapify(heap)
        while heap:
            _key, call_id, via = heapq.heappop(heap)
            call = self.calls.get(call_id)
            if via and not self.agents[via].in_index:
                continue
            if call is None or not call.indexed:
                if via:
                    self._push_best_call(heap, self.agents[via])
                continue
            chosen = self._best_agent(call)
            if chosen is None:
                continue
            self._offer(call, self.agents[chosen], now, out)
            if via and via != chosen:
                self._push_best_call(heap, self.agents[via])

    def _push_best_call(self, heap: list[tuple[QueueKey, str, str]], agent: Agent) -> None:
        """The best waiting call the agent fits: the head of each tier group it may serve."""
        if not agent.in_index:
            return
        best: tuple[QueueKey, str] | None = None
        for queue, tier, _score in agent.bands:
            groups = self.queues[queue].groups
            for group in groups[tier:]:
                head = group.first()
                if head is not None and (best is None or head < best):
                    best = head
        if best is not None:
            heapq.heappush(heap, (best[0], best[1], agent.number))

    def _best_agent(self, call: Call) -> str | None:
        """The agent to ring for a call: the first tier with anyone available, then that
        band's order (skill score, then the queue's strategy)."""
        state = self.queues[call.record.queue]
        for band in state.bands[: call.tier + 1]:
            number = band.best(state.rr_last)
            if number is not None:
                return number
        return None

    def _offer(self, call: Call, agent: Agent, now: float, out: list[Decision]) -> None:
        state = self.queues[call.record.queue]
        queue = state.config
        self._unindex_call(call)
        state.rr_last = agent.number
        if call.scheduled and call.record.offers == 0:
            record = call.record  # a scheduled callback becomes a call when first offered
            out.append(
                CallArrived(
                    record.call_id,
                    record.caller,
                    record.hotline,
                    record.queue,
                    0,
                    _kind(call),
                    record.entered_at,
                    now,
                )
            )
        call.status = CallStatus.RINGING
        call.agent = agent.number
        call.ring_started = now
        call.record = replace(
            call.record, agent=agent.number, disposition="ringing", offers=call.record.offers + 1
        )
        agent.call_id = call.record.call_id
        self._transition(agent, Trigger.RESERVE, now, out)
        self._set_timer(agent, now + queue.ring_timeout + RING_GRACE, "ring")
        out.append(
            Offer(
                call_id=call.record.call_id,
                caller_channel=call.channel,
                caller=call.record.caller,
                agent=agent.number,
                endpoint=agent.number,
                ring_timeout=queue.ring_timeout,
                queue=queue.name,
                callback_number=call.number if call.callback else None,
                kind=call.kind,
                entered_at=call.record.entered_at,
                hotline=call.record.hotline,
                attempt=call.record.offers,
            )
        )
        out.append(call.record)

    # -- queue-depth rules ------------------------------------------------------------
    def metrics(self, now: float) -> dict[str, QueueMetrics]:
        """What the rules watch, per queue and for the centre ("*")."""
        queues = {
            name: QueueMetrics(
                waiting=len(state.line),
                oldest_entered_at=state.line.oldest_entered_at(),
                ready_agents=sum(len(band) for band in state.bands),
                windows=self._service[name].counts(now),
            )
            for name, state in self.queues.items()
        }
        return with_centre(queues, self._available)

    def _apply_rules(self, now: float, out: list[Decision]) -> bool:
        """Evaluate the rules on the state after this event and apply what changed; True
        when that may let calls or callbacks be paired that could not be before."""
        if not self.config.rules:
            return False
        changes = self.rules.evaluate(self.metrics(now), now)
        if not changes:
            return False
        out.extend(changes)
        old, new = self.effects, self.rules.effects()
        self.effects = new
        self.callbacks_suspended = new.callbacks_suspended
        self.breaks_suspended = new.breaks_suspended
        self.rule_callback_cap = new.callback_agent_cap
        if new.breaks_suspended and not old.breaks_suspended:
            rule = ",".join(new.caused_by("suspend-breaks"))
            for agent in self.agents.values():
                if (
                    agent.state is AgentState.NOT_READY
                    and agent.reason in self.config.centre.break_reasons
                ):
                    out.append(AgentRecalled(agent.number, agent.reason, rule, now))
        if new.supervisors_called_in != old.supervisors_called_in:
            for agent in self.agents.values():
                if agent.role == "supervisor":
                    agent.called_in = new.supervisors_called_in
                    self._queues_changed(agent, now, out)
                    self._refresh(agent, now, out)
        return True

    # -- callbacks ----------------------------------------------------------------------
    def _forget(self, call_id: str) -> None:
        """The call is over for the core: drop it and every callback bookkeeping entry."""
        call = self.calls.pop(call_id, None)
        self._on_callbacks.discard(call_id)
        if call is not None and call.callback_id is not None:
            self._callback_ids.pop(call.callback_id, None)
            self._pending_callbacks.discard((call.key.entered_at, call.key.seq, call_id))

    def _keep_callback(self, call_id: str, now: float, out: list[Decision]) -> None:
        """Virtual hold: the caller hangs up and keeps their place; when their turn comes an
        agent is rung first and the caller dialled with the agent on the line."""
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.WAITING or call.callback:
            raise Refused(f"call {call_id} is not waiting in a queue")
        queue = self.queues[call.record.queue].config
        if not queue.virtual_hold:
            raise Refused(f"queue {queue.name} does not offer callbacks")
        if self.callbacks_suspended:
            raise Refused("callbacks are suspended while the queue is at its peak")
        number = call.record.caller.removeprefix("+")
        if not (number.isascii() and number.isdigit()):
            raise Refused("the caller's number is unknown: nothing to call back")
        position = self._leave_present(call)
        left = self._left(call, LeaveReason.VIRTUAL_HOLD, position, HangupSide.CALLER, now)
        call.kind = "virtual-hold"
        call.number = call.record.caller
        call.channel = ""
        call.announce_token += 1  # no more announcements: nobody is on hold
        call.record = replace(call.record, kind="virtual-hold")
        out.append(call.record)
        out.append(left)
        out.append(
            CallbackRequested(
                call_id=call_id,
                caller=call.record.caller,
                hotline=call.record.hotline,
                queue=queue.name,
                kind="virtual-hold",
                requested_at=now,
                due_at=now,
                status="queued",
            )
        )
        self._catch_up(call, now, out)  # no max wait from now on

    def _callback_due(self, event: ev.CallbackDue, now: float, out: list[Decision]) -> None:
        if event.callback_id in self._callback_ids:
            return  # already here (the dialer polls again before it is dialled)
        if event.attempt < self._dialled.get(event.callback_id, 0):
            return  # the records have not caught up with a dial the core made
        if event.queue not in self.queues:
            out.append(CallbackReleased(event.callback_id, f"unknown queue {event.queue}"))
            return
        call_id = f"cb{event.callback_id}-{event.attempt + 1}"
        record = CallRecord(
            call_id=call_id,
            caller=event.number,
            hotline=event.hotline,
            queue=event.queue,
            entered_at=now,
            kind=event.kind,
        )
        key = QueueKey(0, event.requested_at, next(self._seq))
        call = Call(
            record,
            "",
            key,
            visited=[event.queue],
            kind=event.kind,
            number=event.number,
            callback_id=event.callback_id,
            attempt=event.attempt,
            not_after=event.not_after,
        )
        self.calls[call_id] = call
        self._callback_ids[event.callback_id] = call_id
        self._pending_callbacks.add((key.entered_at, key.seq, call_id))

    def callback_cap(self) -> int | None:
        """Agents allowed on scheduled callbacks at once: the config's and the rules' cap."""
        caps = [
            cap
            for cap in (self.config.callbacks.max_agents, self.rule_callback_cap)
            if cap is not None
        ]
        return min(caps) if caps else None

    def _dispatch_callbacks(self, now: float, out: list[Decision]) -> None:
        """Scheduled callbacks, oldest request first, to agents free after `_dispatch`: an
        agent still available now has no caller waiting that it could take."""
        if not self._pending_callbacks or self.callbacks_suspended or self._available == 0:
            return  # (nobody free: nothing to look at, on every event while agents are busy)
        cap = self.callback_cap()
        for entry in list(self._pending_callbacks):
            if cap is not None and len(self._on_callbacks) >= cap:
                return
            call = self.calls[entry[2]]
            if call.not_after is not None and now >= call.not_after:
                self._forget(entry[2])
                if call.callback_id is not None:
                    out.append(CallbackReleased(call.callback_id, "business hours ended"))
                continue
            chosen = self._best_agent(call)
            if chosen is None:
                continue
            self._pending_callbacks.discard(entry)
            self._on_callbacks.add(entry[2])
            self._offer(call, self.agents[chosen], now, out)

    def _callback_answered(self, call_id: str, now: float, out: list[Decision]) -> None:
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.DIALING or call.agent is None:
            return
        call.status = CallStatus.TALKING
        call.record = replace(call.record, answered_at=now, disposition="answered")
        out.append(self._connected(call, call.agent, "", now))
        out.append(call.record)
        out.append(self._attempt(call, call.agent, "answered", None, now))

    def _callback_failed(self, call_id: str, outcome: str, now: float, out: list[Decision]) -> None:
        """The customer did not answer (or the agent gave up): record the attempt and say
        when to dial again; the records (not the core) keep the callback until then."""
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.DIALING or call.agent is None:
            return
        settings = self.config.callbacks
        last = call.attempt + 1 >= settings.max_attempts
        retry_at = None if last else now + settings.retry_gap_seconds
        out.append(self._attempt(call, call.agent, outcome, retry_at, now))
        self._forget(call_id)
        ended = replace(
            call.record, ended_at=now, disposition="callback-failed", hangup_side="system"
        )
        out.append(self._ended(call, ended, HangupSide.SYSTEM, now))
        out.append(ended)
        agent = self.agents[call.agent]
        if agent.call_id == call_id:
            self._end_talk(agent, call, now, out)

    def _attempt(
        self, call: Call, agent: str, outcome: str, retry_at: float | None, now: float
    ) -> CallbackAttempt:
        if call.callback_id is not None:
            self._dialled[call.callback_id] = call.attempt + 1
        return CallbackAttempt(
            callback_id=call.callback_id,
            call_id=call.record.call_id,
            number=call.number,
            queue=call.record.queue,
            kind=call.kind,
            agent=agent,
            attempt=call.attempt + 1,
            outcome=outcome,
            at=now,
            retry_at=retry_at,
        )

    # -- (re)building the indexes -------------------------------------------------------
    def _rebuild(self, now: float, out: list[Decision]) -> None:
        """After a (re)configuration: where each agent fits, and every index from scratch.

        The one place that scans all agents and calls; it runs once per config, not per event.
        """
        self._stale = False
        first = self.config.queues[0].name
        self._available = 0
        for agent in self.agents.values():
            agent.indexed.clear()
            agent.in_index = False
            agent.counted = False
            agent.bands = []
            for name, state in self.queues.items():
                entry = state.plan.entry(agent.skills)
                if agent.only_queues is not None:
                    if name not in agent.only_queues:
                        continue
                    # Moved here by a supervisor: a first-tier member even without the skill,
                    # ranked after those who have it.
                    entry = entry or (0, 0)
                if entry is not None:
                    agent.bands.append((name, entry[0], entry[1]))
        waiting = []
        for call in self.calls.values():
            call.indexed = False
            if call.record.queue not in self.queues:
                old = call.record.queue
                call.record = replace(call.record, queue=first)
                call.visited.append(first)
                out.append(
                    CallMoved(
                        call.record.call_id,
                        call.channel,
                        old,
                        first,
                        ExitReason.REMOVED,
                        0,
                        call.origposition,
                        call.queued_at,
                        _kind(call),
                        now,
                    )
                )
                call.present = False
                if call.status in (CallStatus.WAITING, CallStatus.RINGING) and not call.callback:
                    call.queued_at = now
                    call.origposition = self._join_present(call, self.queues[first])
                out.append(call.record)
            elif call.present:
                self.queues[call.record.queue].present.add((call.key, call.record.call_id))
            plan = self.queues[call.record.queue].plan
            call.stage = min(call.stage, len(plan.steps))
            call.tier = plan.stage_tier[call.stage]
            if call.status is CallStatus.WAITING:
                self._index_call(call)
                waiting.append(call)
        for agent in self.agents.values():
            self._queues_changed(agent, now, out)
            self._refresh(agent, now, out)
        for call in waiting:
            if call.record.call_id in self.calls:
                self._dirty_calls[call.record.call_id] = None
                self._arm_announce(call, self.queues[call.record.queue], now)
                self._catch_up(call, now, out)

    # -- views --------------------------------------------------------------------------
    def snapshot(self, now: float) -> dict[str, Any]:
        """What `acd status` shows: queues with their waiting calls, agents with states, and
        the rules in force with what they changed."""
        view = snapshot(self.queues, self.calls, self.agents, now)
        effects = self.effects
        view["rules"] = {
            "active": self.rules.active(),
            "pending": self.rules.pending(),
            "effects": {
                "callbacks_suspended": effects.callbacks_suspended,
                "breaks_suspended": effects.breaks_suspended,
                "supervisors_called_in": effects.supervisors_called_in,
                "callback_agent_cap": self.callback_cap(),
                "alerts": list(effects.alerts),
                "causes": {kind: list(names) for kind, names in effects.causes},
            },
        }
        return view


def _kind(call: Call) -> CallKind:
    return CallKind(call.kind)


def _failure(reason: str) -> OfferFailure:
    """An adapter's failure reason as the vocabulary; an unknown one is a failed originate."""
    try:
        return OfferFailure(reason)
    except ValueError:
        return OfferFailure.FAILED


class Refused(Exception):
    """A request the rules in force do not allow (a break at peak time, a callback while
    callbacks are suspended); the message is for the person who asked."""


class UnknownAgent(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(f"unknown agent {number}")


__all__ = [
    "BUSY",
    "UNREACHABLE",
    "Agent",
    "Call",
    "CallStatus",
    "Core",
    "IllegalTransition",
    "Refused",
    "UnknownAgent",
]
