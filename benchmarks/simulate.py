"""How fast the simulator runs a large centre's day through the real routing core.

    .venv/bin/python -m benchmarks.simulate [--hours 24] [--agents 2000] [--profile]

One queue, 20,000 calls an hour (Poisson) for a day, 2,000 agents, AHT 300 s (270 s of
exponential talk + 30 s wrap-up), callers' patience exponential with a 3-minute mean:
20,000 × 300 / 3,600 = 1,667 Erlangs, 83% occupancy. One replication after a 15-minute
warm-up. It prints the simulated calls, wall and CPU seconds, simulated calls per second, the
core events fed, and the service level, ASA and occupancy next to Erlang C's. `--profile`
runs it under cProfile and prints where the time goes, split into the simulator's loop and
the core. Figures, not a test: nothing asserts on wall-clock time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import time

from acd.sim.model import Distribution, Model, Traffic
from acd.sim.run import Replication, run_once
from acd.sim.scenario import one_queue_config
from acd.staffing.erlang import erlang_c

CALLS_PER_HOUR = 20_000
AHT = 300.0
WRAPUP = 30.0
PATIENCE = 180.0


def day(hours: float) -> Model:
    return Model(
        traffic=Traffic((CALLS_PER_HOUR,), 3600),
        talk=Distribution(AHT - WRAPUP),
        duration_seconds=hours * 3600,
        warmup_seconds=900,
        patience=Distribution(PATIENCE),
        target_seconds=20,
    )


def run(agents: int, hours: float) -> tuple[Replication, float, float]:
    """The day's result, wall seconds and CPU seconds (the latter holds up on a busy host)."""
    config = one_queue_config(agents, WRAPUP)
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    result = run_once(config, "general", day(hours), seed=1)
    return result, time.perf_counter() - began, time.process_time() - cpu


def report(result: Replication, wall: float, cpu: float, agents: int) -> None:
    theory = erlang_c(CALLS_PER_HOUR, 3600, AHT, agents, 20)
    print(f"simulated calls       {result.simulated_calls:>12,}")
    print(f"core events fed       {result.core_events:>12,}")
    print(f"wall seconds          {wall:>12.1f}")
    print(f"CPU seconds           {cpu:>12.1f}")
    print(f"simulated calls / s   {result.simulated_calls / wall:>12,.0f}   (wall)")
    print(f"simulated calls / s   {result.simulated_calls / cpu:>12,.0f}   (CPU)")
    print(f"core events / s       {result.core_events / wall:>12,.0f}")
    sl = theory.service_level
    print(f"service level 20 s    {result.service_level:>12.2%}   (Erlang C {sl:.2%})")
    print(f"ASA                   {result.asa:>12.2f} s (Erlang C {theory.asa:.2f} s)")
    print(f"occupancy             {result.occupancy:>12.2%}   (Erlang C {theory.occupancy:.2%})")
    print(f"abandoned             {result.abandoned:>12,}")


# Where a function's file lives -> the part of the program it is counted in.
PARTS = (
    ("acd/sim/", "simulator loop"),
    ("acd/core/", "core"),
    ("agents/", "core (agent states)"),
    ("dataclasses.py", "core (dataclasses.replace)"),
    ("sortedcontainers", "core (sorted indexes)"),
    ("heapq", "heaps"),
    ("random.py", "random draws"),
    ("enum.py", "core (enum access)"),
    ("~", "builtins (both)"),
)


def profile(agents: int, hours: float) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    result, _, _ = run(agents, hours)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        part = next((name for key, name in PARTS if key in filename), "other")
        own[part] = own.get(part, 0.0) + row[2]
    print(f"\nprofile of {result.simulated_calls:,} calls ({total:.1f} s under cProfile):")
    for part, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"  {part:<18} {seconds:>7.2f} s  {seconds / total:>6.1%}  (own time)")
    stats.sort_stats("tottime").print_stats(20)
    print(stream.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0, help="measured hours (default 24)")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="run under cProfile instead")
    args = parser.parse_args()
    if args.profile:
        profile(args.agents, args.hours)
        return
    print(
        f"{CALLS_PER_HOUR:,} calls/h for {args.hours:g} h, {args.agents:,} agents, AHT {AHT:g} s "
        f"({CALLS_PER_HOUR * AHT / 3600:,.0f} Erlangs)\n"
    )
    result, wall, cpu = run(args.agents, args.hours)
    report(result, wall, cpu, args.agents)


if __name__ == "__main__":
    main()
