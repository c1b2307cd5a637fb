"""2. Capacity: calls per second in steps until a step fails, retransmits or has a setup p99
over the limit; recording off and on; CPU per call of the engine and of Asterisk.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import livelab
from benchmarks.app_queue.lab import (
    ROUTES,
    Lab,
    connected,
    first_offers,
    session,
)
from benchmarks.app_queue.stats import median, pct
from benchmarks.sipp_load.phones import run_callers
from benchmarks.sipp_load.scenarios import Talk
from benchmarks.sipp_load.traces import CallerLeg, agent_legs, caller_legs

SETUP_P99_LIMIT = 0.5


@dataclass
class Step:
    rate: float
    calls: int
    failed: int
    retransmits: int
    setup_p50_ms: float
    setup_p99_ms: float
    peak_concurrent: int
    engine_cpu_ms_per_call: float
    asterisk_cpu_ms_per_call: float

    @property
    def clean(self) -> bool:
        return (
            self.failed == 0
            and self.retransmits == 0
            and self.setup_p99_ms <= SETUP_P99_LIMIT * 1000
        )


def peak_concurrency(legs: list[CallerLeg]) -> int:
    edges: list[tuple[float, int]] = []
    for leg in legs:
        end = leg.bye_received_at or leg.answered_at or leg.invite_at
        edges += [(leg.invite_at, 1), (end, -1)]
    peak = now = 0
    for _, delta in sorted(edges):
        now += delta
        peak = max(peak, now)
    return peak


async def ramp(
    lab: Lab, route: str, recording: bool, rates: Sequence[float], step_s: float
) -> tuple[list[Step], str]:
    """The steps run, and what ended the ramp."""
    steps: list[Step] = []
    ended = "the last step (no failure)"
    talk = Talk(2000)
    async with session(lab, route, "ramp", 100, talk, recording) as s:
        for rate in rates:
            if rate * (talk.mean_ms + 700) / 1000 > 0.8 * len(lab.agents):
                print(f"    {rate:5.1f}/s: would need more than 80% of the agents; stop")
                ended = "the agents (no failure)"
                break
            calls = max(1, round(rate * step_s))
            work = s.workdir / f"step-{rate:g}"
            before_a = livelab.sample(s.asterisk_pid)
            before_e = livelab.sample(s.engine.pid) if s.engine else None
            await run_callers(
                work,
                lab.ports.target,
                lab.exten(route, recording),
                lab.caller_prefix() + "[call_number]",
                calls=calls,
                rate=rate,
                max_ms=20_000,
                timeout_s=step_s + 60,
            )
            await asyncio.sleep(1.0)
            after_a = livelab.sample(s.asterisk_pid)
            after_e = livelab.sample(s.engine.pid) if s.engine else None
            callers = caller_legs(work / "messages.txt")
            agents = [a for a in agent_legs(s.bank.trace) if a.caller in callers]
            offers, answered = first_offers(agents), connected(agents)
            failed = sum(
                1
                for number, c in callers.items()
                if c.final_status != 200 or c.gave_up or number not in answered
            )
            failed += calls - len(callers)
            retransmits = sum(c.invites_sent - 1 for c in callers.values())
            retransmits += sum(a.invites_received - 1 for a in agents)
            setups = [offers[n].invite_at - c.invite_at for n, c in callers.items() if n in offers]
            engine_cpu = (
                (after_e.cpu_seconds - before_e.cpu_seconds) / calls * 1000
                if after_e and before_e
                else math.nan
            )
            step = Step(
                rate,
                calls,
                failed,
                retransmits,
                pct(setups, 50) * 1000,
                pct(setups, 99) * 1000,
                peak_concurrency(list(callers.values())),
                engine_cpu,
                (after_a.cpu_seconds - before_a.cpu_seconds) / calls * 1000,
            )
            steps.append(step)
            print(
                f"    {rate:5.1f}/s: {calls:4d} calls, failed {step.failed}, "
                f"retrans {step.retransmits}, setup p50/p99 {step.setup_p50_ms:.0f}/"
                f"{step.setup_p99_ms:.0f} ms, peak {step.peak_concurrent} calls, CPU ms/call "
                f"engine {step.engine_cpu_ms_per_call:.1f} asterisk "
                f"{step.asterisk_cpu_ms_per_call:.1f}{'' if step.clean else '  NOT CLEAN'}",
                flush=True,
            )
            if not step.clean:
                ended = "failures"
                break
    return steps, ended


@dataclass
class CapacityResult:
    best_rate: float
    peak_concurrent: int
    engine_cpu_ms_per_call: float
    asterisk_cpu_ms_per_call: float
    limited_by: str


def best_of(steps: list[Step], ended: str) -> CapacityResult:
    clean = [s for s in steps if s.clean]
    if not clean:
        return CapacityResult(0.0, 0, math.nan, math.nan, "the first step failed")
    top = clean[-1]
    return CapacityResult(
        top.rate,
        top.peak_concurrent,
        median([s.engine_cpu_ms_per_call for s in clean]),
        median([s.asterisk_cpu_ms_per_call for s in clean]),
        ended,
    )


async def capacity(
    lab: Lab, repeats: int, quick: bool
) -> dict[tuple[str, bool], list[CapacityResult]]:
    print("\n== 2. capacity (steps until a failure, a retransmit or setup p99 > 500 ms) ==")
    agents = 40 if quick else 300
    rates = [2.0, 5.0] if quick else [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 75.0, 90.0]
    step_s = 8.0 if quick else 10.0
    await asyncio.to_thread(lab.configure, agents)
    results: dict[tuple[str, bool], list[CapacityResult]] = {}
    for n in range(repeats):
        for recording in (False, True):
            for route in ROUTES if n % 2 == 0 else ROUTES[::-1]:
                print(f"  {route}, recording {'on' if recording else 'off'}, run {n + 1}:")
                steps, ended = await ramp(lab, route, recording, rates, step_s)
                results.setdefault((route, recording), []).append(best_of(steps, ended))
    return results
