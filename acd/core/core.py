"""The ACD's state and rules, fed events and a clock, answering with decisions.

No I/O, no asyncio, no wall clock: the engine's consumer task calls `handle(event, now)` for
every event in order and carries out what comes back. That is what lets the same core run
live, in tests that replay hours in milliseconds, and in simulation.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from acd.config.models import Config, QueueConfig
from acd.core import events as ev
from acd.core.decisions import AgentStateChanged, CallRecord, CancelOffer, Decision, Offer
from acd.core.routing import QueueKey, WaitingLine, heads_in_order, pick_agent
from agents.state import AgentState, IllegalTransition, Trigger, next_state

# Asterisk device states in which a phone cannot take an ACD call at all. UNKNOWN counts: a
# phone we have heard nothing about is not rung until Asterisk says it is registered.
UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID", "UNKNOWN"})
# Device states that mean the phone is busy with something.
BUSY = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})
# Slack on top of the ring timeout before the core gives up on an offer by itself, in case
# Asterisk's answer to the originate never arrives.
RING_GRACE = 10.0


class CallStatus(StrEnum):
    WAITING = "waiting"
    RINGING = "ringing"
    TALKING = "talking"


@dataclass(slots=True)
class Call:
    record: CallRecord
    channel: str
    key: QueueKey
    status: CallStatus = CallStatus.WAITING
    agent: str | None = None


@dataclass(slots=True)
class Agent:
    number: str
    skills: dict[str, int]
    role: str
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float | None = None  # None until the core first sees the agent change
    idle_since: float = 0.0
    device: str = "UNKNOWN"
    call_id: str | None = None
    timer: int = 0  # token of the live timer; older timers are stale
    calls_taken: int = 0

    def available(self) -> bool:
        return (
            self.state is AgentState.READY
            and self.device not in UNREACHABLE
            and self.device not in BUSY
        )


class Core:
    def __init__(self, config: Config) -> None:
        self._seq = itertools.count()
        self._timers: list[tuple[float, int, str, str, int]] = []
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        self.lines: dict[str, WaitingLine] = {}
        self.queues: dict[str, QueueConfig] = {}
        self.reconfigure(config)

    def reconfigure(self, config: Config) -> None:
        """Adopt a new config; agents and calls already known keep their state."""
        self.config = config
        self.queues = {q.name: q for q in config.queues}
        for name in self.queues:
            self.lines.setdefault(name, WaitingLine())
        for spec in config.agents:
            agent = self.agents.get(spec.number)
            if agent is None:
                self.agents[spec.number] = Agent(spec.number, dict(spec.skills), spec.role)
            else:
                agent.skills = dict(spec.skills)
                agent.role = spec.role

    # -- the one entry point ------------------------------------------------------------
    def handle(self, event: ev.Event, now: float) -> list[Decision]:
        out: list[Decision] = []
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
                self._transition(agent, Trigger.PAUSE, now, out, reason=event.reason)
            case ev.DeviceState():
                if event.agent in self.agents:
                    self.agents[event.agent].device = event.state
            case ev.Resync():
                for call_id in [c for c in self.calls if c not in event.live_calls]:
                    self._caller_hung_up(call_id, now, out, side="system")
            case ev.Tick():
                pass
        self._fire_timers(now, out)
        self._dispatch(now, out)
        return out

    def next_deadline(self) -> float | None:
        while self._timers and not self._timer_live(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

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
        self.calls[event.call_id] = Call(record, event.channel, key)
        self.lines[queue].push(key, event.call_id)
        out.append(record)

    def _caller_hung_up(self, call_id: str, now: float, out: list[Decision], side: str) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        if call.status is CallStatus.WAITING:
            self.lines[call.record.queue].remove(call_id)
            out.append(
                replace(call.record, ended_at=now, disposition="abandoned", hangup_side=side)
            )
            return
        agent = self.agents[call.agent] if call.agent else None
        if call.status is CallStatus.RINGING:
            if agent is not None:
                out.append(CancelOffer(call_id, agent.number))
                agent.call_id = None
                self._transition(agent, Trigger.CANCEL, now, out)
            out.append(
                replace(call.record, ended_at=now, disposition="abandoned", hangup_side=side)
            )
            return
        out.append(replace(call.record, ended_at=now, disposition="answered", hangup_side=side))
        if agent is not None and agent.call_id == call_id:
            self._end_talk(agent, call.record.queue, now, out)

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
        call.status = CallStatus.TALKING
        call.record = replace(call.record, answered_at=now, disposition="answered")
        agent.calls_taken += 1
        self._transition(agent, Trigger.ANSWER, now, out)
        out.append(call.record)

    def _offer_failed(
        self, call_id: str, number: str, reason: str, now: float, out: list[Decision]
    ) -> None:
        agent = self.agents.get(number)
        if agent is None or agent.call_id != call_id or agent.state is not AgentState.RESERVED:
            return  # a late or duplicate report about an offer already settled
        agent.call_id = None
        queue = self._queue_of(call_id)
        if reason == "no-answer" and (queue is None or queue.pause_on_no_answer):
            self._transition(agent, Trigger.NO_ANSWER, now, out, reason="no-answer")
        elif reason == "unavailable":
            self._transition(agent, Trigger.NO_ANSWER, now, out, reason="unreachable")
        else:
            self._transition(agent, Trigger.CANCEL, now, out)
        call = self.calls.get(call_id)
        if call is not None and call.status is CallStatus.RINGING:
            # Back to the head of its queue: its original key still sorts it first.
            call.status = CallStatus.WAITING
            call.agent = None
            call.record = replace(call.record, agent=None, disposition="waiting")
            self.lines[call.record.queue].push(call.key, call_id)
            out.append(call.record)

    def _agent_leg_hung_up(self, event: ev.AgentLegHungUp, now: float, out: list[Decision]) -> None:
        agent = self.agents.get(event.agent)
        call = self.calls.get(event.call_id)
        if agent is None or agent.call_id != event.call_id:
            return
        if agent.state is AgentState.RESERVED:
            # Hung up before answering (rejected): treated as a failed offer.
            self._offer_failed(event.call_id, agent.number, "rejected", now, out)
            return
        queue = ""
        if call is not None and call.status is CallStatus.TALKING:
            self.calls.pop(event.call_id)
            queue = call.record.queue
            out.append(replace(call.record, ended_at=now, hangup_side="agent"))
        self._end_talk(agent, queue, now, out)

    def _end_talk(self, agent: Agent, queue_name: str, now: float, out: list[Decision]) -> None:
        if agent.state is not AgentState.ON_CALL:
            return
        queue = self.queues.get(queue_name)
        agent.call_id = None
        self._transition(agent, Trigger.HANGUP, now, out)
        wrapup = queue.wrapup_seconds if queue else 0.0
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
        agent.state = new
        agent.reason = reason if new is AgentState.NOT_READY else None
        agent.since = now
        agent.timer += 1  # any pending timer belonged to the old state
        if new is AgentState.READY and old is not AgentState.READY:
            agent.idle_since = now
        out.append(AgentStateChanged(agent.number, old.value, new.value, agent.reason, now))

    # -- timers -------------------------------------------------------------------------
    def _set_timer(self, agent: Agent, at: float, kind: str) -> None:
        heapq.heappush(self._timers, (at, next(self._seq), kind, agent.number, agent.timer))

    def _timer_live(self, timer: tuple[float, int, str, str, int]) -> bool:
        agent = self.agents.get(timer[3])
        return agent is not None and agent.timer == timer[4]

    def _fire_timers(self, now: float, out: list[Decision]) -> None:
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)
            if not self._timer_live(timer):
                continue
            agent = self.agents[timer[3]]
            if timer[2] == "wrapup":
                self._transition(agent, Trigger.WRAP_UP_DONE, now, out)
            elif timer[2] == "ring" and agent.call_id is not None:
                self._offer_failed(agent.call_id, agent.number, "no-answer", now, out)

    # -- routing ------------------------------------------------------------------------
    def _dispatch(self, now: float, out: list[Decision]) -> None:
        """Pair waiting calls with available agents until no pair is left."""
        while True:
            offered = False
            for _key, queue_name, call_id in heads_in_order(self.lines):
                queue = self.queues[queue_name]
                candidates = (
                    (a.number, a.skills, a.idle_since)
                    for a in self.agents.values()
                    if a.available() and a.role == "agent"
                )
                number = pick_agent(candidates, queue.skills)
                if number is None:
                    continue
                self._offer(self.calls[call_id], self.agents[number], queue, now, out)
                offered = True
                break
            if not offered:
                return

    def _offer(
        self, call: Call, agent: Agent, queue: QueueConfig, now: float, out: list[Decision]
    ) -> None:
        self.lines[queue.name].remove(call.record.call_id)
        call.status = CallStatus.RINGING
        call.agent = agent.number
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
            )
        )
        out.append(call.record)

    def _queue_of(self, call_id: str) -> QueueConfig | None:
        call = self.calls.get(call_id)
        return self.queues.get(call.record.queue) if call else None

    # -- views --------------------------------------------------------------------------
    def snapshot(self, now: float) -> dict[str, Any]:
        """What `acd status` shows: queues with their waiting calls, agents with states."""
        queues = []
        for name, line in self.lines.items():
            waiting = []
            for call_id in line.ordered():
                call = self.calls[call_id]
                waiting.append(
                    {
                        "call_id": call_id,
                        "caller": call.record.caller,
                        "priority": -call.key.neg_priority,
                        "wait_seconds": round(now - call.record.entered_at, 1),
                    }
                )
            ringing = [
                {"call_id": c.record.call_id, "agent": c.agent}
                for c in self.calls.values()
                if c.record.queue == name and c.status is CallStatus.RINGING
            ]
            talking = sum(
                1
                for c in self.calls.values()
                if c.record.queue == name and c.status is CallStatus.TALKING
            )
            queues.append(
                {"name": name, "waiting": waiting, "ringing": ringing, "talking": talking}
            )
        agents = [
            {
                "number": a.number,
                "role": a.role,
                "state": a.state.value,
                "reason": a.reason,
                "device": a.device,
                "seconds_in_state": None if a.since is None else round(now - a.since, 1),
                "call_id": a.call_id,
                "calls_taken": a.calls_taken,
            }
            for a in self.agents.values()
        ]
        return {"queues": queues, "agents": agents}


class UnknownAgent(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(f"unknown agent {number}")


__all__ = ["Core", "IllegalTransition", "UnknownAgent"]
