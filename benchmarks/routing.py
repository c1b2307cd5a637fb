"""How the cost of one routing decision grows with agents and waiting calls.

    .venv/bin/python -m benchmarks.routing [--samples N] [--seed S]

Builds configs in code: 20 skills, 10 queues (each needs one skill at level 2, with expansion
steps to level 1 and to another skill, and the four strategies in turn), agents with 3-5
random skills at random levels. For each cell of 100 / 1,000 / 10,000 agents by 10 / 500 /
5,000 waiting calls it times single `Core.handle()` calls that produce an offer:

- "agent ready": every agent is paused with the calls waiting; one agent becomes ready and
  gets the best call it fits. (Afterwards, untimed, it answers, hangs up and pauses again, and
  a new caller replaces the one it took, so the cell keeps its size.)
- "call enters": every agent is ready; the waiting calls sit in a backlog queue whose skill
  nobody has (in a settled centre, callers only wait where nobody free fits); a new caller
  enters one of the 10 queues and is offered to the best agent. (Afterwards, untimed, the
  caller hangs up while ringing, and the agent is ready again.)

It prints p50 and p99 in microseconds per cell, and the growth of p50 from 1,000 to 10,000
agents: near 1-2 means logarithmic growth, linear would be about 10. Figures, not a test:
nothing asserts on wall-clock time.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from acd.config.hotlines import GotoQueue, HotlineConfig, MenuConfig
from acd.config.models import AgentConfig, Config
from acd.config.queues import ExpansionStep, QueueConfig, Strategy
from acd.core import events as ev
from acd.core.decisions import Decision, Offer
from acd.core.driver import Driver

SKILLS = [f"s{n}" for n in range(20)]
QUEUES = 10
STRATEGIES: list[Strategy] = ["longest-idle", "fewest-calls", "least-occupied", "round-robin"]
AGENT_COUNTS = (100, 1_000, 10_000)
WAITING_COUNTS = (10, 500, 5_000)
START = 1_700_000_000.0
TICK = 0.001  # time moves a little between events, never as far as an expansion step


def build_config(agents: int, rng: random.Random) -> Config:
    """10 queues on skills s0-s9 and a backlog queue on s19, which no agent holds."""
    queues = [
        QueueConfig(
            name=f"q{n}",
            skills={f"s{n}": 2},
            strategy=STRATEGIES[n % len(STRATEGIES)],
            expansion=[
                ExpansionStep(after_seconds=60, min_level=1),
                ExpansionStep(after_seconds=120, also_skills={f"s{n + 10}": 3}),
            ],
        )
        for n in range(QUEUES)
    ]
    queues.append(QueueConfig(name="backlog", skills={"s19": 5}))
    people = [
        AgentConfig(
            number=str(10_000 + n),
            skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS[:19], rng.randint(3, 5))},
        )
        for n in range(agents)
    ]
    menu = MenuConfig(
        prompt="menu", options={"1": GotoQueue(queue="q0")}, fallback=GotoQueue(queue="q0")
    )
    hotline = HotlineConfig(
        name="bench", extension="100", greeting="hello", menu="main", menus={"main": menu}
    )
    return Config(skills={s: s for s in SKILLS}, queues=queues, agents=people, hotlines=[hotline])


@dataclass
class Bench:
    """One core behind the consumer in miniature, time moving `TICK` per event, fresh call ids.

    Decisions are not kept (each step's are read as they come); a timed step is the driver's
    `send`: `Core.handle()` and an empty loop over observers.
    """

    driver: Driver
    rng: random.Random
    now: float = START
    calls: int = 0

    def send(self, event: ev.Event) -> list[Decision]:
        self.now += TICK
        return self.driver.send(event, self.now)

    def timed(self, event: ev.Event) -> tuple[int, list[Decision]]:
        self.now += TICK
        began = time.perf_counter_ns()
        out = self.driver.send(event, self.now)
        return time.perf_counter_ns() - began, out

    def new_call(self, queue: str) -> ev.CallEntered:
        self.calls += 1
        call_id = f"call-{self.calls}"
        priority = self.rng.choice((0, 0, 0, 1, 2))
        return ev.CallEntered(call_id, f"PJSIP/{call_id}", "139", "bench", queue, priority)

    def any_queue(self) -> str:
        return f"q{self.rng.randrange(QUEUES)}"


def offer_in(out: list[Decision]) -> Offer | None:
    return next((d for d in out if isinstance(d, Offer)), None)


def agent_ready(config: Config, waiting: int, samples: int, rng: random.Random) -> list[int]:
    bench = Bench(Driver(config, keep=False), rng)
    numbers = [a.number for a in config.agents]
    for number in numbers:  # logged in and paused, phones registered: nobody available
        bench.send(ev.AgentLogin(number))
        bench.send(ev.AgentPause(number, "break"))
        bench.send(ev.DeviceState(number, "NOT_INUSE"))
    for _ in range(waiting):
        bench.send(bench.new_call(bench.any_queue()))
    times: list[int] = []
    for _ in range(samples * 20):
        if len(times) == samples:
            break
        number = rng.choice(numbers)
        spent, out = bench.timed(ev.AgentReady(number))
        offer = offer_in(out)
        if offer is None:  # fits no waiting call: not a routing decision; put it back
            bench.send(ev.AgentPause(number, "break"))
            continue
        times.append(spent)
        bench.send(ev.OfferAnswered(offer.call_id, number))
        bench.send(ev.AgentLegHungUp(offer.call_id, number))
        bench.send(ev.AgentPause(number, "break"))
        bench.send(bench.new_call(offer.queue))
    return times


def call_enters(config: Config, waiting: int, samples: int, rng: random.Random) -> list[int]:
    bench = Bench(Driver(config, keep=False), rng)
    for spec in config.agents:  # everyone ready
        bench.send(ev.DeviceState(spec.number, "NOT_INUSE"))
        bench.send(ev.AgentLogin(spec.number))
    for _ in range(waiting):
        bench.send(bench.new_call("backlog"))
    times: list[int] = []
    for _ in range(samples * 20):
        if len(times) == samples:
            break
        event = bench.new_call(bench.any_queue())
        spent, out = bench.timed(event)
        offer = offer_in(out)
        if offer is None:  # nobody fits this queue at all: stays waiting; take it away
            bench.send(ev.CallerHungUp(event.call_id))
            continue
        times.append(spent)
        bench.send(ev.CallerHungUp(offer.call_id))  # while ringing: the agent is free again
    return times


def percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(share * (len(ordered) - 1)))
    return ordered[index] / 1000  # ns -> µs


def cells(samples: int, seed: int) -> Iterator[tuple[str, int, int, list[int]]]:
    for agents in AGENT_COUNTS:
        config = build_config(agents, random.Random(seed))
        for waiting in WAITING_COUNTS:
            for name, run in (("agent ready", agent_ready), ("call enters", call_enters)):
                gc.collect()
                gc.disable()
                try:
                    times = run(config, waiting, samples, random.Random(seed + waiting))
                finally:
                    gc.enable()
                yield name, agents, waiting, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000, help="timed decisions per cell")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    began = time.perf_counter()
    p50: dict[tuple[str, int, int], float] = {}
    print(f"{'event':<12} {'agents':>7} {'waiting':>8} {'p50 µs':>8} {'p99 µs':>8} {'n':>6}")
    for name, agents, waiting, times in cells(args.samples, args.seed):
        if not times:
            print(f"{name:<12} {agents:>7} {waiting:>8} {'-':>8} {'-':>8} {0:>6}")
            continue
        p50[(name, agents, waiting)] = percentile(times, 0.5)
        print(
            f"{name:<12} {agents:>7} {waiting:>8} {percentile(times, 0.5):>8.1f} "
            f"{percentile(times, 0.99):>8.1f} {len(times):>6}",
            flush=True,
        )
    print("\ngrowth of p50 from 1,000 to 10,000 agents (log ~1-2, linear ~10):")
    for name in ("agent ready", "call enters"):
        for waiting in WAITING_COUNTS:
            low, high = p50.get((name, 1_000, waiting)), p50.get((name, 10_000, waiting))
            if low and high:
                print(f"  {name:<12} waiting {waiting:>5}: x{high / low:.2f}")
    print(f"\n({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
