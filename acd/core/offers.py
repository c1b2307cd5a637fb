"""The rules of offers and callbacks: ringing an agent, the answer or the failure, the
agent hanging up, and virtual-hold and scheduled callbacks.
"""

from __future__ import annotations

from dataclasses import replace

from acd.core import call_facts
from acd.core import events as ev
from acd.core.calls import CallFlow
from acd.core.decisions import CallbackReleased, CallbackRequested, CallRecord, Decision, Offer
from acd.core.dispatch import best_agent
from acd.core.entities import Agent, Call, CallStatus
from acd.core.facts import CallArrived, CustomerDialled
from acd.core.refusals import Refused
from acd.core.routing import QueueKey
from acd.core.timers import TimerKind
from acd.core.vocab import ExitReason, HangupSide, LeaveReason
from agents.state import AgentState, Trigger

# Slack on top of the ring timeout before the core gives up on an offer by itself, in case
# Asterisk's answer to the originate never arrives.
RING_GRACE = 10.0


class OfferFlow(CallFlow):
    """How a call is offered, connected or put back, and how callbacks are dialled."""

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
                    call_facts.kind_of(call),
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
        self._set_timer(agent, now + queue.ring_timeout + RING_GRACE, TimerKind.RING)
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
                    call.record.call_id,
                    agent.number,
                    call.record.queue,
                    call_facts.kind_of(call),
                    now,
                )
            )
        else:
            call.status = CallStatus.TALKING
            call.record = replace(call.record, answered_at=now, disposition="answered")
            self._service[call.record.queue].answered(now - call.record.entered_at, now)
            self._leave_present(call)
            out.append(call_facts.connected(call, agent.number, event.agent_channel, now))
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
            out.append(call_facts.offer_ended(call, number, call_facts.failure(reason), now))
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
                self.callback_book.back(call)
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
            out.append(call_facts.ended(call, ended, HangupSide.AGENT, now))
            out.append(ended)
        self._end_talk(agent, call, now, out)

    def _check_keep_callback(self, call_id: str) -> None:
        """Refused: why the caller cannot be called back instead of holding (see below)."""
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.WAITING or call.callback:
            raise Refused(f"call {call_id} is not waiting in a queue")
        # Before a reload's rebuild, a call whose queue went is about to be in the first one.
        state = self.queues.get(call.record.queue) or self.queues[self.config.queues[0].name]
        if not state.config.virtual_hold:
            raise Refused(f"queue {state.name} does not offer callbacks")
        if self.callbacks_suspended:
            raise Refused("callbacks are suspended while the queue is at its peak")
        number = call.record.caller.removeprefix("+")
        if not (number.isascii() and number.isdigit()):
            raise Refused("the caller's number is unknown: nothing to call back")

    def _keep_callback(self, call_id: str, now: float, out: list[Decision]) -> None:
        """Virtual hold: the caller hangs up and keeps their place; when their turn comes an
        agent is rung first and the caller dialled with the agent on the line.

        Checked before by `_check_keep_callback`."""
        call = self.calls[call_id]
        queue = self.queues[call.record.queue].config
        position = self._leave_present(call)
        left = call_facts.left(call, LeaveReason.VIRTUAL_HOLD, position, HangupSide.CALLER, now)
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
        if self.callback_book.holds(event.callback_id):
            return  # already here (the dialer polls again before it is dialled)
        if self.callback_book.behind(event.callback_id, event.attempt):
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
        self.callback_book.admit(call, event.callback_id)

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
        if not self.callback_book or self.callbacks_suspended or self._available == 0:
            return  # (nobody free: nothing to look at, on every event while agents are busy)
        cap = self.callback_cap()
        for call_id in self.callback_book.pending():
            if cap is not None and self.callback_book.out() >= cap:
                return
            call = self.calls[call_id]
            if call.not_after is not None and now >= call.not_after:
                self._forget(call_id)
                if call.callback_id is not None:
                    out.append(CallbackReleased(call.callback_id, "business hours ended"))
                continue
            chosen = best_agent(call, self.queues)
            if chosen is None:
                continue
            self.callback_book.taken(call)
            self._offer(call, self.agents[chosen], now, out)

    def _callback_answered(self, call_id: str, now: float, out: list[Decision]) -> None:
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.DIALING or call.agent is None:
            return
        call.status = CallStatus.TALKING
        call.record = replace(call.record, answered_at=now, disposition="answered")
        out.append(call_facts.connected(call, call.agent, "", now))
        out.append(call.record)
        out.append(self.callback_book.attempt(call, call.agent, "answered", None, now))

    def _callback_failed(self, call_id: str, outcome: str, now: float, out: list[Decision]) -> None:
        """The customer did not answer (or the agent gave up): record the attempt and say
        when to dial again; the records (not the core) keep the callback until then."""
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.DIALING or call.agent is None:
            return
        settings = self.config.callbacks
        last = call.attempt + 1 >= settings.max_attempts
        retry_at = None if last else now + settings.retry_gap_seconds
        out.append(self.callback_book.attempt(call, call.agent, outcome, retry_at, now))
        self._forget(call_id)
        ended = replace(
            call.record, ended_at=now, disposition="callback-failed", hangup_side="system"
        )
        out.append(call_facts.ended(call, ended, HangupSide.SYSTEM, now))
        out.append(ended)
        agent = self.agents[call.agent]
        if agent.call_id == call_id:
            self._end_talk(agent, call, now, out)
