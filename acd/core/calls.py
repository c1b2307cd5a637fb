"""The rules of a call's wait: arriving, queueing, expansion steps and max wait, moves
between queues, leaving, hanging up, announcements, and a rebuild after a reload.
"""

from __future__ import annotations

import math
from dataclasses import replace

from acd.config.queues import QueueExit
from acd.core import call_facts
from acd.core import events as ev
from acd.core.decisions import Announce, CallRecord, CancelOffer, Decision, ExitQueue
from acd.core.entities import Call, CallStatus, QueueState
from acd.core.estimate import expected_wait
from acd.core.facts import CallArrived, CallMoved, CallQueued, CallRefused, QueueCause
from acd.core.routing import QueueKey
from acd.core.state import CoreState
from acd.core.timers import TimerKind
from acd.core.vocab import CallKind, Disposition, ExitReason, HangupSide, LeaveReason, OfferFailure
from agents.state import Trigger


class CallFlow(CoreState):
    """How calls arrive, wait, move and leave."""

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
                CallRefused(
                    call.record.call_id, queue.name, ExitReason.FULL, call_facts.kind_of(call), now
                )
            )
            self._leave(call, ExitReason.FULL, queue.on_full, now, out)
            return
        empty_rule = not queue.join_when_empty or queue.leave_when_empty
        if empty_rule and state.capable == 0:
            out.append(
                CallRefused(
                    call.record.call_id, queue.name, ExitReason.EMPTY, call_facts.kind_of(call), now
                )
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
                call_facts.kind_of(call),
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
            self.timers.set(min(deadlines), TimerKind.CHECK, call.record.call_id, call.check_token)

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
                call_facts.kind_of(call),
                now,
            )
        )
        self._arrive(call, now, out, QueueCause.MOVED)

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
        out.append(call_facts.left(call, left, position, HangupSide.SYSTEM, now, prompt))
        out.append(
            replace(record, ended_at=now, disposition=Disposition(left), hangup_side="system")
        )

    def _empty_queue(self, state: QueueState, now: float, out: list[Decision]) -> None:
        """leave_when_empty: the queue's last agent logged out; its waiting callers go."""
        for _key, call_id in list(state.line.entries):
            call = self.calls[call_id]
            if not call.callback:  # a promised callback is kept for when staff return
                self._leave(call, ExitReason.EMPTY, state.config.on_empty, now, out)

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
            out.append(call_facts.left(call, LeaveReason.ABANDONED, position, hung_up, now))
            out.append(
                replace(call.record, ended_at=now, disposition="abandoned", hangup_side=side)
            )
            return
        agent = self.agents[call.agent] if call.agent else None
        if call.status is CallStatus.RINGING:
            if agent is not None:
                out.append(CancelOffer(call_id, agent.number))
                out.append(
                    call_facts.offer_ended(call, agent.number, OfferFailure.CALLER_HUNG_UP, now)
                )
                agent.call_id = None
                self._transition(agent, Trigger.CANCEL, now, out)
            position = self._leave_present(call)
            out.append(call_facts.left(call, LeaveReason.ABANDONED, position, hung_up, now))
            out.append(
                replace(call.record, ended_at=now, disposition="abandoned", hangup_side=side)
            )
            return
        ended = replace(call.record, ended_at=now, disposition="answered", hangup_side=side)
        out.append(call_facts.ended(call, ended, hung_up, now))
        out.append(ended)
        if agent is not None and agent.call_id == call_id:
            self._end_talk(agent, call, now, out)

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
        self.timers.set(
            entered + periods * every, TimerKind.ANNOUNCE, call.record.call_id, call.announce_token
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
                        call_facts.kind_of(call),
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
