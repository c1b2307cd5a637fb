"""The discrete-event loop: the real routing core on a virtual clock, with no Asterisk.

The world's future events (arrivals, agents answering, calls ending, callers giving up, an
agent coming back after a no-answer pause) sit in one heap; the core's own timers (wrap-up,
ring timeouts, expansion steps, max wait, announcements) come from `Core.next_deadline()` and
are fed as `Tick`s at their due times. Every step goes through the one consumer in miniature,
`acd.core.driver.Driver`, at the heap's time instead of a clock's. Whichever is earlier goes
first (the core's timer on a tie, so an agent whose wrap-up ends as a caller arrives is free
for that caller), and every step gets a `now` no earlier than the one before. The decisions
are carried out the way the engine would: an `Offer` makes the agent's phone ring and, after
the ring delay, answer (or fail at the ring timeout); a call record with an end time is a
result.

Only what the core cannot know is the simulator's: which callers are still holding (so a
caller whose patience runs out after the agent answered does not hang up) and the talk time
each one brings.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from acd.config.models import Config
from acd.core import events as ev
from acd.core.decisions import AgentStateChanged, CallRecord, Offer
from acd.core.driver import Driver
from acd.sim.model import Arrivals, Model, Streams
from acd.sim.scenario import staff
from acd.sim.stats import Estimate, estimate

WAITING, RINGING, TALKING = 0, 1, 2
ARRIVE, ANSWER, NO_ANSWER, HANG_UP, GIVE_UP, READY = range(6)
# Agent states in which an agent is taken by a call (Erlang's "busy"): ringing, talking,
# wrapping up.
BUSY_STATES = frozenset({"reserved", "on-call", "wrap-up"})

# (due, seq, kind, call id, agent, offer number for answers)
WorldEvent = tuple[float, int, int, str, str, int]


@dataclass(slots=True)
class _Caller:
    entered: float
    talk: float
    counted: bool
    status: int = WAITING
    offers: int = 0
    first_offer: float = -1.0  # when the core first offered it to an agent; -1: not yet


@dataclass(slots=True)
class Replication:
    """One run's counts over the callers who arrived in the measured time."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    turned_away: int = 0  # the queue's rules let it go: max wait, full, no agents
    unfinished: int = 0  # still there when the drain time ran out
    answered_within: int = 0
    waited: int = 0  # not offered to an agent the moment it arrived
    wait_sum: float = 0.0  # over answered calls: arrival to answer
    busy_seconds: float = 0.0  # the queue's staff, ringing + talking + wrap-up, in the window
    agent_seconds: float = 0.0  # the queue's staff × the measured time
    simulated_calls: int = 0  # every arrival, warm-up included
    core_events: int = 0
    wall_seconds: float = 0.0

    @property
    def service_level(self) -> float:
        """Answered within the target over all offered (abandoned callers count against it)."""
        return self.answered_within / self.offered if self.offered else math.nan

    @property
    def wait_probability(self) -> float:
        return self.waited / self.offered if self.offered else math.nan

    @property
    def asa(self) -> float:
        return self.wait_sum / self.answered if self.answered else math.nan

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.offered if self.offered else math.nan

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / self.agent_seconds if self.agent_seconds else math.nan


def run_once(
    config: Config,
    queue: str,
    model: Model,
    seed: int,
    replication: int = 0,
    timer: Callable[[], float] = time.perf_counter,
) -> Replication:
    """One replication: every agent of `config` logs in at time 0, callers enter `queue`."""
    began = timer()
    config.queue(queue)  # KeyError for an unknown queue, before anything runs
    driver = Driver(config, keep=False)
    streams = Streams(seed, replication)
    result = Replication()
    staff_set = frozenset(staff(config, queue))
    window_start, window_end = model.warmup_seconds, model.end
    result.agent_seconds = len(staff_set) * model.duration_seconds
    horizon = model.end + model.drain_seconds
    hotline = config.hotlines[0].name
    ring = model.ring_seconds
    target = model.target_seconds
    talk, patience = model.talk, model.patience
    talk_rng, patience_rng = streams.talk, streams.patience

    handle = driver.send
    next_deadline = driver.next_deadline
    heap: list[WorldEvent] = []
    push = heapq.heappush
    pop = heapq.heappop
    seq = itertools.count()
    tick = ev.Tick()
    callers: dict[str, _Caller] = {}
    busy_since: dict[str, float] = {}
    outstanding = 0
    arrived = 0
    events = 0

    for spec in config.agents:
        handle(ev.DeviceState(spec.number, "NOT_INUSE"), 0.0)
        handle(ev.AgentLogin(spec.number), 0.0)
        events += 2
    arrivals = Arrivals(model, streams.arrivals)
    first = arrivals.next()
    if first is not None:
        push(heap, (first, next(seq), ARRIVE, "", "", 0))

    while True:
        deadline = next_deadline()
        from_world = bool(heap) and (deadline is None or heap[0][0] < deadline)
        if from_world:
            at = heap[0][0]
        elif deadline is not None:
            at = deadline
        else:
            break
        # Past the drain time, or past the measured time with every measured caller done.
        if at > horizon or (not outstanding and at >= window_end):
            break
        event: ev.Event = tick
        if from_world:
            _, _, kind, call_id, agent, token = pop(heap)
            if kind == ARRIVE:
                arrived += 1
                call_id = f"c{arrived}"
                counted = window_start <= at < window_end
                callers[call_id] = _Caller(at, talk.sample(talk_rng), counted)
                if counted:
                    outstanding += 1
                    result.offered += 1
                if patience is not None:
                    gives_up = at + patience.sample(patience_rng)
                    push(heap, (gives_up, next(seq), GIVE_UP, call_id, "", 0))
                following = arrivals.next()
                if following is not None:
                    push(heap, (following, next(seq), ARRIVE, "", "", 0))
                event = ev.CallEntered(call_id, call_id, "sim", hotline, queue)
            elif kind == HANG_UP:
                event = ev.AgentLegHungUp(call_id, agent)
            elif kind in (ANSWER, NO_ANSWER):
                ringing = callers.get(call_id)
                if ringing is None or ringing.status != RINGING or ringing.offers != token:
                    continue  # the caller hung up while it rang
                if kind == ANSWER:
                    ringing.status = TALKING
                    push(heap, (at + ringing.talk, next(seq), HANG_UP, call_id, agent, 0))
                    event = ev.OfferAnswered(call_id, agent)
                else:
                    ringing.status = WAITING
                    back = at + model.no_answer_back_seconds
                    push(heap, (back, next(seq), READY, "", agent, 0))
                    event = ev.OfferFailed(call_id, agent, "no-answer")
            elif kind == GIVE_UP:
                holding = callers.get(call_id)
                if holding is None or holding.status == TALKING:
                    continue
                event = ev.CallerHungUp(call_id)
            else:  # READY
                event = ev.AgentReady(agent)
        events += 1
        for decision in handle(event, at):
            if isinstance(decision, CallRecord):
                if decision.ended_at is None:
                    continue
                caller = callers.pop(decision.call_id)
                if not caller.counted:
                    continue
                outstanding -= 1
                if decision.answered_at is not None:
                    result.answered += 1
                    wait = decision.answered_at - decision.entered_at
                    result.wait_sum += wait
                    if wait <= target:
                        result.answered_within += 1
                elif decision.disposition == "abandoned":
                    result.abandoned += 1
                else:
                    result.turned_away += 1
                if caller.first_offer != caller.entered:
                    result.waited += 1
            elif isinstance(decision, AgentStateChanged):
                number = decision.agent
                if number not in staff_set:
                    continue
                was, busy = decision.old in BUSY_STATES, decision.new in BUSY_STATES
                if busy and not was:
                    busy_since[number] = at
                elif was and not busy:
                    start = busy_since.pop(number)
                    result.busy_seconds += _overlap(start, at, window_start, window_end)
            elif isinstance(decision, Offer):
                offered = callers[decision.call_id]
                offered.status = RINGING
                offered.offers += 1
                if offered.first_offer < 0:
                    offered.first_offer = at
                if ring < decision.ring_timeout:
                    due, outcome = at + ring, ANSWER
                else:
                    due, outcome = at + decision.ring_timeout, NO_ANSWER
                push(
                    heap,
                    (due, next(seq), outcome, decision.call_id, decision.agent, offered.offers),
                )

    for start in busy_since.values():
        result.busy_seconds += _overlap(start, math.inf, window_start, window_end)
    for caller in callers.values():
        if caller.counted:
            result.unfinished += 1
            if caller.first_offer != caller.entered:
                result.waited += 1
    result.simulated_calls = arrived
    result.core_events = events
    result.wall_seconds = timer() - began
    return result


def _overlap(start: float, end: float, window_start: float, window_end: float) -> float:
    return max(0.0, min(end, window_end) - max(start, window_start))


@dataclass(frozen=True, slots=True)
class Summary:
    """Every figure as a mean over replications with its 95% interval (see `acd.sim.stats`)."""

    replications: list[Replication] = field(repr=False)
    offered: Estimate
    answered: Estimate
    abandoned: Estimate
    turned_away: Estimate
    service_level: Estimate
    wait_probability: Estimate
    asa: Estimate
    abandon_rate: Estimate
    occupancy: Estimate

    @property
    def simulated_calls(self) -> int:
        return sum(r.simulated_calls for r in self.replications)

    @property
    def wall_seconds(self) -> float:
        return sum(r.wall_seconds for r in self.replications)

    @property
    def calls_per_second(self) -> float:
        """The simulator's own speed: simulated calls per wall-clock second."""
        wall = self.wall_seconds
        return self.simulated_calls / wall if wall > 0 else math.inf

    @property
    def unfinished(self) -> int:
        return sum(r.unfinished for r in self.replications)


def simulate(
    config: Config,
    queue: str,
    model: Model,
    replications: int = 10,
    seed: int = 1,
    timer: Callable[[], float] = time.perf_counter,
) -> Summary:
    """`replications` independent runs (seeds derived from `seed` and the run's number)."""
    if replications < 1:
        raise ValueError("at least one replication")
    runs = [run_once(config, queue, model, seed, r, timer) for r in range(replications)]

    def over(figure: Callable[[Replication], float]) -> Estimate:
        return estimate([figure(r) for r in runs])

    return Summary(
        replications=runs,
        offered=over(lambda r: r.offered),
        answered=over(lambda r: r.answered),
        abandoned=over(lambda r: r.abandoned),
        turned_away=over(lambda r: r.turned_away),
        service_level=over(lambda r: r.service_level),
        wait_probability=over(lambda r: r.wait_probability),
        asa=over(lambda r: r.asa),
        abandon_rate=over(lambda r: r.abandon_rate),
        occupancy=over(lambda r: r.occupancy),
    )
