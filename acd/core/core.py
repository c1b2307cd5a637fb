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

The class is carved by what it holds: `CoreState` (acd.core.state: agents, queues, indexes,
timers), `CallFlow` (acd.core.calls: arrival, queueing, moves, leaving), `OfferFlow`
(acd.core.offers: offers and callbacks); `Core` here is the one entry point. Each `handle()`
validates the event (a refusal is raised before anything was settled, so no decision is
lost), runs the event's handler from one table, then settles: timers, pairing, callbacks and
the queue-depth rules. Collaborators that own their state: `Timers` (acd.core.timers),
`CallbackBook` (acd.core.callbacks); the pairing itself is `acd.core.dispatch.pairs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from acd.config.models import Config
from acd.core import events as ev
from acd.core.decisions import AgentRecalled, Decision
from acd.core.dispatch import pairs
from acd.core.entities import BUSY, UNREACHABLE, Agent, Call, CallStatus
from acd.core.metrics import QueueMetrics, with_centre
from acd.core.offers import RING_GRACE, OfferFlow
from acd.core.refusals import Refused, UnknownAgent
from acd.core.timers import TimerKind
from acd.core.views import snapshot
from agents.state import AgentState, IllegalTransition, Trigger, next_state

Handler = Callable[[Any, float, list[Decision]], None]
"""An event's handler: (the event, now, the decisions so far to append to)."""

_TRIGGERS = {
    ev.AgentLogin: Trigger.LOGIN,
    ev.AgentLogout: Trigger.LOGOUT,
    ev.AgentReady: Trigger.READY,
}


def _nothing(event: ev.Event, now: float, out: list[Decision]) -> None:
    """A Tick: only the settling that follows every event."""


class Core(OfferFlow):
    """The ACD: `handle(event, now)` in, decisions out; the read API for everyone else."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        # Event type -> what it does; every handler appends to `out` and returns nothing.
        self._handlers: dict[type[ev.Event], Handler] = {
            ev.CallEntered: self._call_entered,
            ev.CallerHungUp: self._on_caller_hung_up,
            ev.OfferAnswered: self._offer_answered,
            ev.OfferFailed: self._on_offer_failed,
            ev.AgentLegHungUp: self._agent_leg_hung_up,
            ev.AgentLogin: self._on_agent_login,
            ev.AgentLogout: self._on_agent_logout,
            ev.AgentReady: self._on_agent_ready,
            ev.AgentPause: self._on_agent_pause,
            ev.TakeCalls: self._on_take_calls,
            ev.SetQueues: self._on_set_queues,
            ev.KeepCallback: self._on_keep_callback,
            ev.CallbackDue: self._callback_due,
            ev.CallbackAnswered: self._on_callback_answered,
            ev.CallbackFailed: self._on_callback_failed,
            ev.DeviceState: self._on_device_state,
            ev.Resync: self._on_resync,
            ev.Tick: _nothing,
        }

    # -- the one entry point ------------------------------------------------------------
    def handle(self, event: ev.Event, now: float) -> list[Decision]:
        """Validate, handle, settle; the decisions, in the order they were taken.

        An event the core refuses (UnknownAgent, IllegalTransition, Refused) is refused by
        `_validate` before any work is done, so nothing decided is lost with the exception:
        work that was due (a rebuild after a reload) is done at the next event instead.
        """
        self._validate(event)
        out: list[Decision] = []
        if self._stale:
            self._rebuild(now, out)
        if self._new_rules is not None:
            out.extend(self.rules.reconfigure(self._new_rules, now))
            self._new_rules = None
        self._handlers.get(type(event), _nothing)(event, now, out)
        self._settle(now, out)
        return out

    def _settle(self, now: float, out: list[Decision]) -> None:
        """After any event: due timers, then pairing, then callbacks, then the rules."""
        self._fire_timers(now, out)
        self._dispatch(now, out)
        self._dispatch_callbacks(now, out)
        if self._apply_rules(now, out):
            # Supervisors called in, a cap lifted: pair what that freed up at once.
            self._dispatch(now, out)
            self._dispatch_callbacks(now, out)

    def _validate(self, event: ev.Event) -> None:
        """Raise what the core would refuse the event for, before any state changes."""
        match event:
            case ev.AgentLogin() | ev.AgentLogout() | ev.AgentReady():
                agent = self._agent(event.agent)
                next_state(agent.number, agent.state, _TRIGGERS[type(event)])
            case ev.AgentPause():
                agent = self._agent(event.agent)
                if self.breaks_suspended and event.reason in self.config.centre.break_reasons:
                    raise Refused(
                        f"agent {agent.number}: breaks are suspended while the queue is at "
                        "its peak; please stay ready"
                    )
                next_state(agent.number, agent.state, Trigger.PAUSE)
            case ev.TakeCalls():
                self._agent(event.agent)
            case ev.SetQueues():
                self._agent(event.agent)
                unknown = [q for q in event.queues or () if q not in self.queues]
                if unknown:
                    raise Refused(f"no queue {', '.join(unknown)}")
            case ev.KeepCallback():
                self._check_keep_callback(event.call_id)

    # -- the handlers that are not a flow's method as they are --------------------------
    def _on_caller_hung_up(self, event: ev.CallerHungUp, now: float, out: list[Decision]) -> None:
        self._caller_hung_up(event.call_id, now, out, side="caller")

    def _on_offer_failed(self, event: ev.OfferFailed, now: float, out: list[Decision]) -> None:
        self._offer_failed(event.call_id, event.agent, event.reason, now, out)

    def _on_agent_login(self, event: ev.AgentLogin, now: float, out: list[Decision]) -> None:
        self._transition(self._agent(event.agent), Trigger.LOGIN, now, out)

    def _on_agent_logout(self, event: ev.AgentLogout, now: float, out: list[Decision]) -> None:
        self._transition(self._agent(event.agent), Trigger.LOGOUT, now, out)

    def _on_agent_ready(self, event: ev.AgentReady, now: float, out: list[Decision]) -> None:
        self._transition(self._agent(event.agent), Trigger.READY, now, out)

    def _on_agent_pause(self, event: ev.AgentPause, now: float, out: list[Decision]) -> None:
        self._transition(self._agent(event.agent), Trigger.PAUSE, now, out, reason=event.reason)

    def _on_take_calls(self, event: ev.TakeCalls, now: float, out: list[Decision]) -> None:
        agent = self._agent(event.agent)
        agent.takes_calls = event.enabled
        self._queues_changed(agent, now, out)
        self._refresh(agent, now, out)

    def _on_set_queues(self, event: ev.SetQueues, now: float, out: list[Decision]) -> None:
        agent = self._agent(event.agent)
        agent.only_queues = None if event.queues is None else frozenset(event.queues)
        # Where an agent fits is worked out per config; a move is rare enough to rebuild it
        # all, as a reload does, rather than keep a second path in step.
        self.reconfigure(self.config)
        self._rebuild(now, out)

    def _on_keep_callback(self, event: ev.KeepCallback, now: float, out: list[Decision]) -> None:
        self._keep_callback(event.call_id, now, out)

    def _on_callback_answered(
        self, event: ev.CallbackAnswered, now: float, out: list[Decision]
    ) -> None:
        self._callback_answered(event.call_id, now, out)

    def _on_callback_failed(
        self, event: ev.CallbackFailed, now: float, out: list[Decision]
    ) -> None:
        self._callback_failed(event.call_id, event.outcome, now, out)

    def _on_device_state(self, event: ev.DeviceState, now: float, out: list[Decision]) -> None:
        agent = self.agents.get(event.agent)
        if agent is not None:
            agent.device = event.state
            self._refresh(agent, now, out)

    def _on_resync(self, event: ev.Resync, now: float, out: list[Decision]) -> None:
        gone = [
            call_id
            for call_id, call in self.calls.items()
            if call_id not in event.live_calls and not call.callback
        ]
        for call_id in gone:
            self._caller_hung_up(call_id, now, out, side="system")

    # -- settling -----------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        soonest = self.timers.next_at()
        rules = self.rules.next_deadline()
        if rules is not None and (soonest is None or rules < soonest):
            soonest = rules
        return soonest

    def _fire_timers(self, now: float, out: list[Decision]) -> None:
        for timer in self.timers.due(now):
            match timer.kind:
                case TimerKind.WRAPUP:
                    self._transition(self.agents[timer.subject], Trigger.WRAP_UP_DONE, now, out)
                case TimerKind.RING:
                    agent = self.agents[timer.subject]
                    if agent.call_id is not None:
                        self._offer_failed(agent.call_id, agent.number, "no-answer", now, out)
                case TimerKind.CHECK:
                    self._catch_up(self.calls[timer.subject], now, out)
                case TimerKind.ANNOUNCE:
                    self._announce(self.calls[timer.subject], now, out)

    def _dispatch(self, now: float, out: list[Decision]) -> None:
        """Offer every pair `acd.core.dispatch.pairs` finds among what changed."""
        agents, calls = list(self._dirty_agents), list(self._dirty_calls)
        self._dirty_agents.clear()
        self._dirty_calls.clear()
        for call, agent in pairs(agents, calls, self.calls, self.agents, self.queues):
            self._offer(call, agent, now, out)

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


__all__ = [
    "BUSY",
    "RING_GRACE",
    "UNREACHABLE",
    "Agent",
    "Call",
    "CallStatus",
    "Core",
    "IllegalTransition",
    "Refused",
    "UnknownAgent",
]
