"""Properties of the routing core over random days: whatever happens, in whatever order.

Each example is a random sequence of agents logging in and out, pausing, phones changing
state, supervisors joining, callers entering (some rebuilt after a restart), answering,
failing, hanging up, and time passing. After every `handle()` the core is checked against an
oracle written here from the rules, independently of the core's tiers and indexes:

(a) an offer goes only to an agent who was available and fits the call's (expanded) skills;
(b) the core is settled: no available agent and waiting call that fit each other coexist;
(c) no call is lost or duplicated: each is waiting, ringing or talking, or has ended once;
(d) priority and FIFO hold: no call still waiting that the offered agent fits is ahead of
    the call it was offered.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.config import Config
from acd.config.models import AgentConfig
from acd.config.queues import ExpansionStep, QueueConfig, QueueExit
from acd.core import events as ev
from acd.core.core import BUSY, UNREACHABLE, IllegalTransition
from acd.core.decisions import CallRecord, Decision, ExitQueue, Offer
from agents.state import AgentState
from tests.unit.core.conftest import Driver
from tests.unit.site import agent, configured

GOODBYE = QueueExit(goodbye_prompt="goodbye")

QUEUES = [
    QueueConfig(
        name="general",
        skills={"housekeeping": 3},
        strategy="longest-idle",
        wrapup_seconds=10,
        expansion=[
            ExpansionStep(after_seconds=30, min_level=1),
            ExpansionStep(after_seconds=60, also_skills={"repairs": 2}),
            ExpansionStep(after_seconds=150, overflow="jobs"),
        ],
        max_wait_seconds=240,
        on_timeout=GOODBYE,
        announce_every_seconds=45,
    ),
    QueueConfig(
        name="repairs",
        skills={"repairs": 2},
        strategy="round-robin",
        wrapup_seconds=5,
        expansion=[ExpansionStep(after_seconds=40, also_skills={"moving": 3})],
        max_waiting=2,
        on_full=QueueExit(queue="general"),
        leave_when_empty=True,
        on_empty=GOODBYE,
    ),
    QueueConfig(
        name="jobs",
        skills={"jobs": 1},
        strategy="fewest-calls",
        wrapup_seconds=20,
        expansion=[ExpansionStep(after_seconds=180, overflow="care")],
        join_when_empty=False,
        on_empty=QueueExit(queue="repairs"),
        max_wait_seconds=220,
        on_timeout=QueueExit(queue="general"),
        pause_on_no_answer=False,
    ),
    QueueConfig(
        name="care",
        skills={"housekeeping": 2, "moving": 2},
        strategy="least-occupied",
        wrapup_seconds=15,
        expansion=[
            ExpansionStep(after_seconds=20, min_level=1),
            ExpansionStep(after_seconds=50, overflow="general"),
        ],
        announce_every_seconds=30,
    ),
]

AGENTS: list[AgentConfig] = [
    agent("3001", housekeeping=5, moving=2),
    agent("3002", housekeeping=2, repairs=3),
    agent("3003", repairs=5, moving=4, jobs=1),
    agent("3004", jobs=4, housekeeping=1),
    agent("3005", moving=3),
    agent("3006", housekeeping=3, moving=3, repairs=2),
    agent("3090", "supervisor", housekeeping=4, repairs=4, jobs=4, moving=4),
]
NUMBERS = [a.number for a in AGENTS]
SKILLS = {a.number: dict(a.skills) for a in AGENTS}
ROLES = {a.number: a.role for a in AGENTS}
BY_NAME = {q.name: q for q in QUEUES}


# -- the oracle: the rules, read straight from config -------------------------------------


def fits(queue: QueueConfig, waited: float, skills: dict[str, int]) -> bool:
    """Does an agent with `skills` fit a call that has waited `waited` s in `queue`?"""
    minimums = dict(queue.skills)
    accepted: list[dict[str, int]] = []
    for step in sorted(queue.expansion, key=lambda s: s.after_seconds):
        if step.after_seconds > waited:
            break
        if step.min_level is not None:
            minimums = {k: min(v, step.min_level) for k, v in minimums.items()}
        if step.also_skills is not None:
            accepted.append(dict(step.also_skills))
    return any(
        all(skills.get(skill, 0) >= level for skill, level in required.items())
        for required in [minimums, *accepted]
    )


@dataclass
class World:
    """What the test itself knows, kept apart from the core's own bookkeeping."""

    driver: Driver
    takes_calls: set[str] = field(default_factory=set)
    priority: dict[str, int] = field(default_factory=dict)
    entered: list[str] = field(default_factory=list)
    final: dict[str, int] = field(default_factory=dict)  # call id -> final records seen
    next_id: int = 0

    @property
    def now(self) -> float:
        return self.driver.clock.now()

    def available(self, number: str) -> bool:
        a = self.driver.core.agents[number]
        return (
            a.state is AgentState.READY
            and a.device not in UNREACHABLE
            and a.device not in BUSY
            and (ROLES[number] == "agent" or number in self.takes_calls)
        )

    def call_fits(self, call_id: str, number: str) -> bool:
        record = self.driver.core.calls[call_id].record
        return fits(BY_NAME[record.queue], self.now - record.entered_at, SKILLS[number])

    def staff(self, queue: QueueConfig) -> int:
        """Logged-in agents on the queues who fit the queue at some stage of a wait."""
        return sum(
            1
            for number in NUMBERS
            if self.driver.core.agents[number].state is not AgentState.LOGGED_OUT
            and (ROLES[number] == "agent" or number in self.takes_calls)
            and fits(queue, math.inf, SKILLS[number])
        )

    def key(self, call_id: str) -> tuple[int, float]:
        return (-self.priority[call_id], self.driver.core.calls[call_id].record.entered_at)

    def calls_in(self, status: str) -> list[str]:
        return sorted(c for c, call in self.driver.core.calls.items() if call.status == status)


# -- the events -----------------------------------------------------------------------------

agents_ = st.sampled_from(NUMBERS)
picks = st.integers(0, 1000)
login = st.tuples(st.just("login"), agents_)
ready = st.tuples(st.just("ready"), agents_)
enter = st.tuples(
    st.just("enter"),
    st.sampled_from([*BY_NAME, "nowhere"]),
    st.integers(0, 3),
    st.sampled_from([0, 0, 0, 25, 70, 130]),  # already waiting (rebuilt after a restart)
)
wait = st.tuples(st.just("wait"), st.sampled_from([1, 5, 10, 20, 30, 60, 90, 150, 250]))
answer = st.tuples(st.just("answer"), picks)
hangup = st.tuples(st.just("agent-hangup"), picks)
# one_of picks branches about evenly: the common events are listed more than once.
BRANCHES = [
    login,
    login,
    ready,
    ready,
    st.tuples(st.just("logout"), agents_),
    st.tuples(st.just("pause"), agents_),
    st.tuples(
        st.just("device"),
        agents_,
        st.sampled_from(["NOT_INUSE", "NOT_INUSE", "INUSE", "UNAVAILABLE", "UNKNOWN"]),
    ),
    st.tuples(st.just("take"), st.sampled_from(["3090", "3090", "3001"]), st.booleans()),
    enter,
    enter,
    enter,
    answer,
    answer,
    st.tuples(st.just("fail"), picks, st.sampled_from(["no-answer", "busy", "unavailable"])),
    st.tuples(st.just("reject"), picks),
    st.tuples(st.just("caller-hangup"), picks),
    hangup,
    hangup,
    st.tuples(st.just("late-report"), picks, agents_),
    st.tuples(st.just("resync"), picks),
    wait,
    wait,
    wait,
]
ops = st.one_of(*BRANCHES)
# Callers pile up, agents are few and time runs long.
crowded_ops = st.one_of(enter, enter, enter, enter, wait, wait, wait, *BRANCHES)


def pick(items: list[str], index: int) -> str | None:
    return items[index % len(items)] if items else None


def to_event(world: World, op: tuple[Any, ...]) -> ev.Event | None:
    """The event an op stands for, or None when it has nothing to act on."""
    kind = op[0]
    core = world.driver.core
    if kind == "login":
        return ev.AgentLogin(op[1])
    if kind == "logout":
        return ev.AgentLogout(op[1])
    if kind == "ready":
        return ev.AgentReady(op[1])
    if kind == "pause":
        return ev.AgentPause(op[1], "break")
    if kind == "device":
        return ev.DeviceState(op[1], op[2])
    if kind == "take":
        return ev.TakeCalls(op[1], op[2])
    if kind == "enter":
        call_id = f"c{world.next_id}"
        world.next_id += 1
        world.priority[call_id] = op[2]
        entered = world.now - op[3] if op[3] else None
        return ev.CallEntered(call_id, f"PJSIP/{call_id}", "139", "home", op[1], op[2], entered)
    if kind == "wait":
        world.driver.clock.advance(op[1])
        return ev.Tick()
    if kind == "late-report":
        return ev.OfferFailed(pick(sorted(world.priority), op[1]) or "none", op[2], "no-answer")
    if kind in ("answer", "fail", "reject"):
        call_id = pick(world.calls_in("ringing"), op[1])
        if call_id is None:
            return None
        number = core.calls[call_id].agent or ""
        if kind == "answer":
            return ev.OfferAnswered(call_id, number)
        if kind == "fail":
            return ev.OfferFailed(call_id, number, op[2])
        return ev.AgentLegHungUp(call_id, number)
    if kind == "agent-hangup":
        call_id = pick(world.calls_in("talking"), op[1])
        if call_id is None:
            return None
        return ev.AgentLegHungUp(call_id, core.calls[call_id].agent or "")
    call_id = pick(sorted(core.calls), op[1])
    if call_id is None:
        return None
    if kind == "caller-hangup":
        return ev.CallerHungUp(call_id)
    return ev.Resync(frozenset(c for c in core.calls if c != call_id))  # resync: one ended


# -- the checks -----------------------------------------------------------------------------


def step(world: World, event: ev.Event) -> None:
    core = world.driver.core
    before = {n: a.state for n, a in core.agents.items()}
    turned_away = False
    if isinstance(event, ev.CallEntered):
        world.entered.append(event.call_id)
        queue = BY_NAME.get(event.queue, QUEUES[0])
        full = queue.max_waiting is not None and len(core.lines[queue.name]) >= queue.max_waiting
        empty = not queue.join_when_empty and world.staff(queue) == 0
        turned_away = full or empty
    try:
        out = world.driver.send(event)
    except IllegalTransition:
        out = []
    if turned_away:  # beyond max_waiting, or nobody to wait for: sent on or away, never kept
        assert isinstance(event, ev.CallEntered)
        call = core.calls.get(event.call_id)
        assert call is None or call.record.queue != BY_NAME.get(event.queue, QUEUES[0]).name
    if isinstance(event, ev.TakeCalls):
        (world.takes_calls.add if event.enabled else world.takes_calls.discard)(event.agent)
    deadline = core.next_deadline()
    assert deadline is None or deadline > world.now, "a timer left overdue"
    check_offers(world, event, before, out)
    check_settled(world)
    check_calls(world, out)


def may_have_become_available(event: ev.Event, number: str, was: AgentState) -> bool:
    if was in (AgentState.READY, AgentState.WRAP_UP, AgentState.RESERVED):
        return True  # already ready; wrap-up ending; a ring cancelled or rejected
    if was is AgentState.NOT_READY:
        return isinstance(event, ev.AgentReady) and event.agent == number
    if was is AgentState.LOGGED_OUT:
        return isinstance(event, ev.AgentLogin) and event.agent == number
    return False


def check_offers(
    world: World, event: ev.Event, before: dict[str, AgentState], out: list[Decision]
) -> None:
    core = world.driver.core
    offers = [d for d in out if isinstance(d, Offer)]
    assert len({o.agent for o in offers}) == len(offers), "one agent rung twice at once"
    for offer in offers:
        agent = core.agents[offer.agent]
        call = core.calls[offer.call_id]
        # (a) available: ready (or just made ready), reachable, on the queues; fits the call.
        assert may_have_become_available(event, offer.agent, before[offer.agent])
        assert agent.state is AgentState.RESERVED and agent.call_id == offer.call_id
        assert agent.device not in UNREACHABLE and agent.device not in BUSY
        assert ROLES[offer.agent] == "agent" or offer.agent in world.takes_calls
        assert offer.queue == call.record.queue
        assert world.call_fits(offer.call_id, offer.agent), (offer, world.now)
        # (d) nobody this agent fits, still waiting, was ahead of the call it got.
        for other in world.calls_in("waiting"):
            if world.call_fits(other, offer.agent):
                assert world.key(other) >= world.key(offer.call_id), (offer, other)


def check_settled(world: World) -> None:
    """(b) after every event: no available agent fits any waiting call."""
    waiting = world.calls_in("waiting")
    for number in NUMBERS:
        if world.available(number):
            for call_id in waiting:
                assert not world.call_fits(call_id, number), (number, call_id, world.now)


def check_calls(world: World, out: list[Decision]) -> None:
    """(c) every call is in exactly one place; ended calls ended once and left the core."""
    core = world.driver.core
    exits = {d.call_id: d.reason for d in out if isinstance(d, ExitQueue)}
    for record in (d for d in out if isinstance(d, CallRecord)):
        if record.ended_at is not None:
            world.final[record.call_id] = world.final.get(record.call_id, 0) + 1
            assert record.call_id not in core.calls
            if record.call_id in exits:
                assert record.disposition == exits[record.call_id]
        else:
            assert world.final.get(record.call_id, 0) == 0, "a record after the end"
    for call_id in world.entered:
        live = call_id in core.calls
        assert live != (world.final.get(call_id, 0) == 1), call_id
        assert world.final.get(call_id, 0) <= 1
    for queue in QUEUES:  # leave_when_empty: no caller waits in a queue without staff
        if queue.leave_when_empty and world.staff(queue) == 0:
            assert core.lines[queue.name].ordered() == []
    lined = [c for line in core.lines.values() for c in line.ordered()]
    assert sorted(lined) == world.calls_in("waiting")
    for call_id, call in core.calls.items():
        assert call_id in core.lines[call.record.queue].ordered() or call.status != "waiting"
        if call.status == "waiting":
            queue = BY_NAME[call.record.queue]
            if queue.max_wait_seconds is not None:
                assert world.now - call.record.entered_at < queue.max_wait_seconds
        else:
            assert call.agent is not None
            holder = core.agents[call.agent]
            expected = AgentState.RESERVED if call.status == "ringing" else AgentState.ON_CALL
            assert (holder.state, holder.call_id) == (expected, call_id)


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(st.lists(ops, min_size=20, max_size=120))
def test_routing_holds_its_rules_whatever_happens(config: Config, script: list[Any]) -> None:
    world = World(Driver(configured(config, queues=QUEUES, agents=AGENTS)))
    for number in NUMBERS:  # phones registered; the script may change that
        step(world, ev.DeviceState(number, "NOT_INUSE"))
    for op in script:
        event = to_event(world, op)
        if event is not None:
            step(world, event)


@PROPERTY
@given(
    st.lists(
        crowded_ops,
        min_size=20,
        max_size=100,
    )
)
def test_queue_rules_hold_when_callers_outnumber_agents(config: Config, script: list[Any]) -> None:
    """Callers pile up and wait long: expansion, overflow, max wait, full and empty exits.

    Phones start unregistered here, so agents are scarce until the script registers them.
    """
    world = World(Driver(configured(config, queues=QUEUES, agents=AGENTS)))
    for op in script:
        event = to_event(world, op)
        if event is not None:
            step(world, event)


@PROPERTY
@given(st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=7), st.data())
def test_a_busy_centre_stays_settled(config: Config, staff: list[str], data: st.DataObject) -> None:
    """Many agents ready and many callers: long runs of offers, answers and wrap-ups."""
    world = World(Driver(configured(config, queues=QUEUES, agents=AGENTS)))
    for number in dict.fromkeys(staff):
        step(world, ev.DeviceState(number, "NOT_INUSE"))
        step(world, ev.AgentLogin(number))
    step(world, ev.TakeCalls("3090", True))
    busy_ops = st.one_of(
        st.tuples(st.just("enter"), st.sampled_from(list(BY_NAME)), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("answer"), picks),
        st.tuples(st.just("agent-hangup"), picks),
        st.tuples(st.just("fail"), picks, st.just("busy")),
        st.tuples(st.just("wait"), st.sampled_from([1, 5, 15, 30])),
    )
    for op in data.draw(st.lists(busy_ops, min_size=10, max_size=120)):
        event = to_event(world, op)
        if event is not None:
            step(world, event)


@settings(max_examples=40, deadline=None)
@given(st.lists(ops, min_size=20, max_size=80))
def test_the_same_events_give_the_same_decisions(config: Config, script: list[Any]) -> None:
    """Replaying a day gives the same decisions, in the same order (no set or hash order)."""
    runs = []
    for _ in range(2):
        world = World(Driver(configured(config, queues=QUEUES, agents=AGENTS)))
        for number in NUMBERS:
            world.driver.send(ev.DeviceState(number, "NOT_INUSE"))
        for op in script:
            event = to_event(world, op)
            if event is not None:
                with contextlib.suppress(IllegalTransition):
                    world.driver.send(event)
        runs.append(world.driver.decisions)
    assert runs[0] == runs[1]
