"""The core's state and the bookkeeping every rule shares: agents and their transitions,
the queues' indexes, app_queue's count of callers, the timers and the callback book.

The rules that change calls build on this (`acd.core.calls`, `acd.core.offers`); the one
entry point is `acd.core.core.Core`. Nothing here decides where a call goes.
"""

from __future__ import annotations

import itertools
from typing import Any

from acd.config.models import Config
from acd.core.callbacks import CallbackBook
from acd.core.decisions import AgentStateChanged, Decision
from acd.core.entities import Agent, Call, QueueState
from acd.core.estimate import HandleTime
from acd.core.facts import AgentQueuesChanged
from acd.core.index import WaitingLine
from acd.core.metrics import DEFAULT_WINDOW_SECONDS, ServiceLevels
from acd.core.read import AgentView, CallView, agent_view, call_view
from acd.core.refusals import UnknownAgent
from acd.core.rules import Effects, RuleBook
from acd.core.timers import Timer, TimerKind, Timers
from agents.state import AgentState, Trigger, next_state


class CoreState:
    """Agents, calls, queues and their indexes, kept consistent by the methods below."""

    def __init__(self, config: Config) -> None:
        self._seq = itertools.count()  # ties among call keys and among timers, in order
        self.timers = Timers(self._seq, self._timer_live)
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, QueueState] = {}
        self.lines: dict[str, WaitingLine] = {}
        self._handle_times: dict[str, HandleTime] = {}
        # What changed since the core was last settled (ordered, so decisions are repeatable).
        self._dirty_agents: dict[str, None] = {}
        self._dirty_calls: dict[str, None] = {}
        self._stale = True
        self.callback_book = CallbackBook()
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

    def call(self, call_id: str) -> CallView | None:
        call = self.calls.get(call_id)
        return None if call is None else call_view(call)

    def agent(self, number: str) -> AgentView | None:
        agent = self.agents.get(number)
        return None if agent is None else agent_view(agent)

    def agent_numbers(self) -> tuple[str, ...]:
        return tuple(self.agents)

    def has_call(self, call_id: str) -> bool:
        """Whether the core knows this call: asked for every AMI event, so no view is built."""
        return call_id in self.calls

    def has_agent(self, number: str) -> bool:
        return number in self.agents

    def waiting(self) -> dict[str, int]:
        """Callers in each queue's line now (ringing ones and callbacks held aside excluded),
        O(queues): the lines know their own length."""
        return {name: len(state.line) for name, state in self.queues.items()}

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

    def _end_talk(self, agent: Agent, call: Call | None, now: float, out: list[Decision]) -> None:
        if agent.state is not AgentState.ON_CALL:
            return
        state = self.queues.get(call.record.queue) if call is not None else None
        agent.call_id = None
        if call is not None and state is not None and call.record.answered_at is not None:
            agent.wrapping = (state.name, now - call.record.answered_at)
        self._transition(agent, Trigger.HANGUP, now, out)
        wrapup = state.config.wrapup_seconds if state is not None else 0.0
        self._set_timer(agent, now + wrapup, TimerKind.WRAPUP)

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

    def _set_timer(self, agent: Agent, at: float, kind: TimerKind) -> None:
        self.timers.set(at, kind, agent.number, agent.timer)

    def _timer_live(self, timer: Timer) -> bool:
        """Whether what the timer was set for still holds (its subject's token is unchanged)."""
        if timer.kind.of_agent:
            agent = self.agents.get(timer.subject)
            return agent is not None and agent.timer == timer.token
        call = self.calls.get(timer.subject)
        if call is None:
            return False
        token = call.check_token if timer.kind is TimerKind.CHECK else call.announce_token
        return token == timer.token

    def _forget(self, call_id: str) -> None:
        """The call is over for the core: drop it and every callback bookkeeping entry."""
        self.callback_book.forget(self.calls.pop(call_id, None), call_id)

    def _empty_queue(self, state: QueueState, now: float, out: list[Decision]) -> None:
        """leave_when_empty: the queue's last agent logged out (see `CallFlow`)."""
        raise NotImplementedError
