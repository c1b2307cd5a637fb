"""The engine against Asterisk's own app_queue, on the same Asterisk with the same phones.

    .venv/bin/python -m benchmarks.app_queue [--quick] [--only latency,capacity,erlang]

It sets up a private lab (see benchmarks/livelab.py: a copy of the lab root at
/tmp/bench-root, SIP 5160, AMI 5138, FastAGI 4673, web 8180) and stops its Asterisk at the
end. Two routes for the same callers:

- app_queue: `Answer()` then `Queue(bench)`; queues.conf holds the same agents as static
  members `PJSIP/<n>`, strategy leastrecent (our longest-idle), ringinuse=no, the same ring
  timeout and wrap-up, retry 1 s (recorded: `Queue(bench-rec)`, monitor-type MixMonitor).
- engine: `Answer()`, the ACD_* variables the IVR would set, then acd-hold, where the engine
  takes over over AMI, exactly as after the IVR (which is left out of both routes).

The agents are one SIPp UAS (every endpoint registered to it) that rings, answers after a
set delay, sends speech and hangs up after a set (or exponential) talk time; the callers are
SIPp UACs that send speech once answered. Only one route runs at a time (the engine is
stopped while app_queue is measured), alternating route order between repeats. All times
come from the SIPp message traces (one host clock):

1. Offer latency. (a) idle: a caller enters the queue with agents free; from the caller's
   200 OK (Answer(), then straight into the queue) to the agent's INVITE. (b) next: two
   agents, a queue of callers; from an agent's BYE (free again, wrap-up 0) to the next
   INVITE that agent gets, counted only while callers were waiting.
2. Capacity: calls per second in steps of 10 s (agents answer after 100 ms and talk 2 s),
   until a step has a failed or unconnected call, an INVITE retransmission (to or from
   Asterisk) or a setup p99 over 500 ms (setup: caller's INVITE to the agent's INVITE);
   recording off and on. CPU seconds per call of the `acd run` process and of Asterisk.
3. Erlang check: 14 agents, Poisson arrivals of 1.11 calls/s (the same seeded arrival times
   for both routes), exponential talk of mean 9 s, agents answer at once, wrap-up 0. Erlang C
   says 88.8% answered within 1 s and 17.4% wait (and is printed again at the handle time the
   run's exponential draws really averaged). Measured from the traces: the wait from
   entering the queue to the agent's 200 OK, with 95% Wilson intervals; cross-checked with
   the engine's records (wait_seconds) and app_queue's queue_log (whole-second holdtime,
   hence bounds).

Each measurement is repeated (`--repeats`, default 3; capacity 2) and medians are printed:
another Asterisk shares this host at times. Figures, not a test: nothing asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import random
import signal
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from acd.staffing.erlang import erlang_c
from benchmarks import livelab
from benchmarks.sipp_load import (
    AgentBank,
    AgentLeg,
    CallerLeg,
    Talk,
    agent_legs,
    caller_legs,
    run_callers,
)

ROUTES = ("app_queue", "engine")
RING_TIMEOUT = 15.0
WRAPUP = 0.0
SETUP_P99_LIMIT = 0.5
ERLANG = {"agents": 14, "rate": 1.11, "aht": 9.0, "target": 1.0}
WAITED = 0.5  # a caller offered later than this after entering did wait for an agent


# --------------------------------------------------------------------------------------------
# statistics


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between ranks; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a proportion (Wilson): sound at small n and near 0 or 1."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def median(values: Sequence[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def ratio(engine: float, app_queue: float) -> str:
    if math.isnan(engine) or math.isnan(app_queue) or app_queue == 0:
        return "-"
    return f"×{engine / app_queue:.2f}"


# --------------------------------------------------------------------------------------------
# the lab and one route's session


@dataclass
class Lab:
    root: Path
    base: Path
    ports: livelab.Ports = livelab.BENCH_PORTS
    agents: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)
    runs: int = 0
    numbers: int = 0

    def conf(self, recording: bool) -> Path:
        return self.base / ("conf-rec" if recording else "conf-norec")

    def configure(self, agents: int) -> None:
        """Both engine configs and the Asterisk files for `agents` agents; restarts Asterisk."""
        self.agents = livelab.agent_numbers(agents)
        for recording in (False, True):
            data = livelab.config_data(
                self.base,
                self.root,
                self.ports,
                self.agents,
                recording=recording,
                ring_timeout=RING_TIMEOUT,
                wrapup=WRAPUP,
            )
            livelab.write_config(self.conf(recording), data)
        extras = livelab.asterisk_extras(
            self.agents, self.ports, ring_timeout=RING_TIMEOUT, wrapup=WRAPUP
        )
        livelab.asterisk_up(self.root, self.conf(False), extras)
        self.passwords = livelab.agent_passwords(self.conf(False), self.agents)

    def workdir(self, name: str) -> Path:
        self.runs += 1
        return self.base / "runs" / f"{self.runs:03d}-{name}"

    def caller_prefix(self) -> str:
        """Caller numbers unique over the whole run: a fixed-length prefix per sipp."""
        self.numbers += 1
        return f"13{self.numbers:05d}"

    def exten(self, route: str, recording: bool) -> str:
        if route == "engine":
            return livelab.ENGINE_EXTEN
        return livelab.APPQUEUE_REC_EXTEN if recording else livelab.APPQUEUE_EXTEN


@dataclass
class Session:
    route: str
    workdir: Path
    bank: AgentBank
    engine: livelab.Engine | None
    asterisk_pid: int


@contextlib.asynccontextmanager
async def session(
    lab: Lab, route: str, name: str, answer_ms: int, talk: Talk, recording: bool = False
) -> AsyncIterator[Session]:
    """The agents' phones registered, and for the engine route a fresh engine on them."""
    await asyncio.to_thread(livelab.clear_recordings, lab.root)
    work = lab.workdir(f"{name}-{route}{'-rec' if recording else ''}")
    bank = AgentBank(work / "agents", lab.ports.target, lab.passwords, answer_ms, talk)
    engine = None
    await bank.start()
    try:
        if route == "engine":
            engine = livelab.Engine(lab.conf(recording), work / "acd.sqlite", work / "engine.log")
            await asyncio.to_thread(engine.start, len(lab.agents))
        else:
            await asyncio.sleep(0.5)  # app_queue hears of the registrations by device state
        yield Session(route, work, bank, engine, livelab.asterisk_pid(lab.root))
    finally:
        if engine is not None:
            await asyncio.to_thread(engine.stop)
        await bank.stop()


def first_offers(agents: list[AgentLeg]) -> dict[str, AgentLeg]:
    out: dict[str, AgentLeg] = {}
    for leg in agents:
        out.setdefault(leg.caller, leg)
    return out


def connected(agents: list[AgentLeg]) -> dict[str, AgentLeg]:
    return {leg.caller: leg for leg in agents if leg.answered_at is not None}


# --------------------------------------------------------------------------------------------
# 1. offer latency


async def idle_offer(lab: Lab, route: str, calls: int) -> list[float]:
    """Seconds from entering the queue to the agent's INVITE, with an agent free."""
    async with session(lab, route, "idle", 100, Talk(1000)) as s:
        await run_callers(
            s.workdir / "callers",
            lab.ports.target,
            lab.exten(route, False),
            lab.caller_prefix() + "[call_number]",
            calls=calls,
            rate=2,
            max_ms=30_000,
            timeout_s=calls / 2 + 60,
        )
    callers = caller_legs(s.workdir / "callers" / "messages.txt")
    agents = agent_legs(s.bank.trace)
    offers = first_offers(agents)
    out = []
    for number, leg in callers.items():
        if leg.answered_at is None or number not in offers:
            continue
        busy = sum(
            1 for a in agents if a.invite_at <= leg.answered_at < (a.bye_sent_at or math.inf)
        )
        if busy < len(lab.agents):
            out.append(offers[number].invite_at - leg.answered_at)
    return out


async def next_offer(lab: Lab, route: str, calls: int) -> list[float]:
    """Seconds from an agent's BYE to its next INVITE, while callers wait."""
    async with session(lab, route, "next", 100, Talk(1000)) as s:
        await run_callers(
            s.workdir / "callers",
            lab.ports.target,
            lab.exten(route, False),
            lab.caller_prefix() + "[call_number]",
            calls=calls,
            rate=20,
            max_ms=90_000,
            timeout_s=calls * 2 + 60,
        )
    callers = caller_legs(s.workdir / "callers" / "messages.txt")
    agents = agent_legs(s.bank.trace)
    offers = first_offers(agents)
    gaps = []
    for agent in lab.agents:
        mine = [a for a in agents if a.agent == agent]
        for leg, following in itertools.pairwise(mine):
            freed = leg.bye_sent_at
            if freed is None:
                continue
            waiting = any(
                c.answered_at is not None
                and c.answered_at < freed
                and number in offers
                and offers[number].invite_at > freed
                for number, c in callers.items()
            )
            if waiting:
                gaps.append(following.invite_at - freed)
    return gaps


@dataclass
class Latency:
    runs: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)

    def add(self, route: str, values: list[float]) -> tuple[float, float, int]:
        point = (pct(values, 50) * 1000, pct(values, 99) * 1000, len(values))
        self.runs.setdefault(route, []).append(point)
        return point

    def summary(self, route: str) -> tuple[float, float, int]:
        runs = self.runs.get(route, [])
        return (
            median([r[0] for r in runs]),
            median([r[1] for r in runs]),
            sum(r[2] for r in runs),
        )


async def latency(lab: Lab, repeats: int, quick: bool) -> dict[str, Latency]:
    results = {"idle": Latency(), "next": Latency()}
    print("\n== 1. offer latency (ms; p50 / p99 per run) ==", flush=True)
    await asyncio.to_thread(lab.configure, 8)
    for n in range(repeats):
        for route in ROUTES if n % 2 == 0 else ROUTES[::-1]:
            p50, p99, count = results["idle"].add(
                route, await idle_offer(lab, route, 10 if quick else 30)
            )
            print(f"  (a) idle  {route:9} run {n + 1}: {p50:7.1f} / {p99:7.1f}  n={count}")
    await asyncio.to_thread(lab.configure, 2)
    for n in range(repeats):
        for route in ROUTES if n % 2 == 0 else ROUTES[::-1]:
            p50, p99, count = results["next"].add(
                route, await next_offer(lab, route, 10 if quick else 24)
            )
            print(f"  (b) next  {route:9} run {n + 1}: {p50:7.1f} / {p99:7.1f}  n={count}")
    return results


# --------------------------------------------------------------------------------------------
# 2. capacity


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


# --------------------------------------------------------------------------------------------
# 3. Erlang check


@dataclass
class ErlangRun:
    n: int
    within: int  # answered within the target
    waited: int  # offered more than WAITED after entering
    unanswered: int
    records_n: int = 0
    records_within: int = 0
    holdtime_zero: int = 0  # app_queue queue_log: holdtime 0 (waited under 1 s)
    holdtime_le1: int = 0  # holdtime <= 1 (waited under 2 s)
    queue_log_n: int = 0
    handle_s: float = math.nan  # realized: agent's INVITE to its BYE, mean over the run


def queue_log_holdtimes(root: Path, since: float, callers: set[str]) -> list[int]:
    """CONNECT holdtimes of queue `bench` from app_queue's queue_log, for these callers."""
    path = root / "var/log/asterisk/queue_log"
    joined: dict[str, str] = {}
    holdtimes: list[int] = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) < 6 or parts[2] != "bench" or float(parts[0]) < since:
            continue
        if parts[4] == "ENTERQUEUE" and len(parts) > 6:
            joined[parts[1]] = parts[6]
        elif parts[4] == "CONNECT" and joined.get(parts[1]) in callers:
            holdtimes.append(int(parts[5]))
    return holdtimes


async def erlang_run(lab: Lab, route: str, duration: float, warmup: float, seed: int) -> ErlangRun:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    started = time.time()
    async with session(
        lab, route, "erlang", 0, Talk(int(ERLANG["aht"] * 1000), exponential=True)
    ) as s:
        tasks: list[asyncio.Task[int]] = []
        begin = loop.time()
        at = 0.0
        arrivals: list[tuple[float, Path]] = []  # when, the caller's workdir
        while True:
            at += rng.expovariate(ERLANG["rate"])
            if at > duration:
                break
            await asyncio.sleep(max(0.0, begin + at - loop.time()))
            number = f"14{lab.numbers:04d}{len(tasks):04d}"
            arrivals.append((at, s.workdir / f"c{len(tasks):04d}"))
            tasks.append(
                asyncio.create_task(
                    run_callers(
                        arrivals[-1][1],
                        lab.ports.target,
                        lab.exten(route, False),
                        number,
                        calls=1,
                        rate=1,
                        max_ms=180_000,
                        timeout_s=240,
                    )
                )
            )
        lab.numbers += 1
        await asyncio.gather(*tasks)
        records = await s.engine.calls() if s.engine else []
    callers: dict[str, CallerLeg] = {}
    for at, workdir in arrivals:
        if at >= warmup:
            callers.update(caller_legs(workdir / "messages.txt"))
    agents = agent_legs(s.bank.trace)
    offers, answered = first_offers(agents), connected(agents)
    target = ERLANG["target"]
    run = ErlangRun(n=len(callers), within=0, waited=0, unanswered=0)
    handled = [a.bye_sent_at - a.invite_at for a in agents if a.bye_sent_at is not None]
    run.handle_s = statistics.mean(handled) if handled else math.nan
    for number, c in callers.items():
        leg = answered.get(number)
        if c.answered_at is None or leg is None or leg.answered_at is None:
            run.unanswered += 1
            continue
        if leg.answered_at - c.answered_at <= target:
            run.within += 1
        if offers[number].invite_at - c.answered_at > WAITED:
            run.waited += 1
    if route == "engine":
        mine = [r for r in records if r.get("caller") in callers]
        run.records_n = len(mine)
        run.records_within = sum(
            1
            for r in mine
            if r.get("wait_seconds") is not None
            and r.get("answered_at")
            and float(r["wait_seconds"]) <= target
        )
    else:
        holds = await asyncio.to_thread(queue_log_holdtimes, lab.root, started, set(callers))
        run.queue_log_n = len(holds)
        run.holdtime_zero = sum(1 for h in holds if h == 0)
        run.holdtime_le1 = sum(1 for h in holds if h <= 1)
    return run


async def erlang(lab: Lab, quick: bool) -> dict[str, ErlangRun]:
    duration, warmup = (60.0, 15.0) if quick else (240.0, 40.0)
    theory = erlang_c(ERLANG["rate"], 1, ERLANG["aht"], int(ERLANG["agents"]), ERLANG["target"])
    print(
        f"\n== 3. Erlang check: {ERLANG['agents']} agents, {ERLANG['rate']} calls/s Poisson, "
        f"exponential talk {ERLANG['aht']} s, {duration:.0f} s of arrivals "
        f"(first {warmup:.0f} s left out) =="
    )
    print(
        f"  Erlang C: service level {theory.service_level:.1%} within {ERLANG['target']:g} s, "
        f"wait probability {theory.wait_probability:.1%}"
    )
    await asyncio.to_thread(lab.configure, int(ERLANG["agents"]))
    out = {}
    for route in ROUTES:
        run = await erlang_run(lab, route, duration, warmup, seed=9)
        out[route] = run
        print_erlang(route, run)
    return out


def print_erlang(route: str, run: ErlangRun) -> None:
    """The measured figures, and Erlang C at the handle time the run really had (the
    exponential draws of one run average a little off the nominal 9 s)."""
    lo, hi = wilson(run.within, run.n)
    wlo, whi = wilson(run.waited, run.n)
    print(
        f"  {route:9}: n={run.n}, SL {run.within / max(run.n, 1):.1%} [{lo:.1%}, {hi:.1%}], "
        f"waited {run.waited / max(run.n, 1):.1%} [{wlo:.1%}, {whi:.1%}], "
        f"not connected {run.unanswered}"
    )
    if not math.isnan(run.handle_s):
        real = erlang_c(ERLANG["rate"], 1, run.handle_s, int(ERLANG["agents"]), ERLANG["target"])
        print(
            f"             realized handle time {run.handle_s:.2f} s: Erlang C SL "
            f"{real.service_level:.1%}, wait probability {real.wait_probability:.1%}"
        )
    if run.records_n:
        print(
            f"             engine records: SL {run.records_within / run.records_n:.1%} "
            f"(n={run.records_n})"
        )
    if run.queue_log_n:
        print(
            f"             queue_log (whole s): holdtime 0 "
            f"{run.holdtime_zero / run.queue_log_n:.1%}, <= 1 "
            f"{run.holdtime_le1 / run.queue_log_n:.1%} (n={run.queue_log_n})"
        )


# --------------------------------------------------------------------------------------------
# report


def report(
    lat: dict[str, Latency] | None,
    cap: dict[tuple[str, bool], list[CapacityResult]] | None,
    erl: dict[str, ErlangRun] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print("\n== summary (medians over runs; ratio = engine / app_queue) ==")
    if lat:
        print(
            f"{'offer latency':28} {'app_queue p50/p99 ms':>22} {'engine p50/p99 ms':>20} "
            f"{'ratio p50':>9} {'ratio p99':>9}"
        )
        for kind, label in (("idle", "(a) agent idle"), ("next", "(b) agent frees")):
            a, e = lat[kind].summary("app_queue"), lat[kind].summary("engine")
            print(
                f"{label:28} {a[0]:10.1f} / {a[1]:7.1f}   {e[0]:8.1f} / {e[1]:7.1f}   "
                f"{ratio(e[0], a[0]):>9} {ratio(e[1], a[1]):>9}"
            )
            out[f"latency_{kind}"] = {"app_queue": a, "engine": e}
    if cap:
        print(f"{'capacity':28} {'app_queue':>22} {'engine':>20}")
        for recording in (False, True):
            rows = {}
            for route in ROUTES:
                runs = cap.get((route, recording), [])
                rows[route] = (
                    median([r.best_rate for r in runs]),
                    median([r.peak_concurrent for r in runs]),
                    median([r.engine_cpu_ms_per_call for r in runs]),
                    median([r.asterisk_cpu_ms_per_call for r in runs]),
                    [r.limited_by for r in runs],
                )
            c, d = rows["app_queue"], rows["engine"]
            tag = "on" if recording else "off"
            print(
                f"{'clean calls/s, rec ' + tag:28} {c[0]:22.1f} {d[0]:20.1f}   {ratio(d[0], c[0])}"
            )
            print(f"{'  peak concurrent calls':28} {c[1]:22.0f} {d[1]:20.0f}")
            print(f"{'  Asterisk CPU ms/call':28} {c[3]:22.1f} {d[3]:20.1f}   {ratio(d[3], c[3])}")
            print(f"{'  engine CPU ms/call':28} {'-':>22} {d[2]:20.1f}")
            print(f"{'  ramp ended by':28} app_queue: {'; '.join(c[4])}")
            print(f"{'':28} engine: {'; '.join(d[4])}")
            out[f"capacity_rec_{tag}"] = rows
    if erl:
        theory = erlang_c(ERLANG["rate"], 1, ERLANG["aht"], int(ERLANG["agents"]), 1.0)
        print(
            f"Erlang C: SL {theory.service_level:.1%}, wait probability "
            f"{theory.wait_probability:.1%}"
        )
        for route in ROUTES:
            print_erlang(route, erl[route])
        out["erlang"] = {route: asdict(run) for route, run in erl.items()}
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a reduced run for a smoke check")
    p.add_argument("--only", default="latency,capacity,erlang", help="which measurements")
    p.add_argument("--repeats", type=int, help="runs per latency measurement (default 3)")
    p.add_argument("--capacity-repeats", type=int, help="ramps per system (default 2)")
    p.add_argument("--root", type=Path, default=livelab.DEFAULT_ROOT)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench-appqueue"))
    p.add_argument("--json", type=Path, help="also write the summary here")
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    only = set(args.only.split(","))
    root = livelab.prepare_root(args.root)
    lab = Lab(root, args.workdir)
    repeats = args.repeats or (1 if args.quick else 3)
    cap_repeats = args.capacity_repeats or (1 if args.quick else 2)
    began = time.monotonic()
    lat = cap = erl = None
    try:
        if "latency" in only:
            lat = await latency(lab, repeats, args.quick)
        if "capacity" in only:
            cap = await capacity(lab, cap_repeats, args.quick)
        if "erlang" in only:
            erl = await erlang(lab, args.quick)
    finally:
        await asyncio.to_thread(livelab.asterisk_down, root)
        await asyncio.to_thread(livelab.clear_recordings, root)
    summary = report(lat, cap, erl)
    print(f"\n(whole run {(time.monotonic() - began) / 60:.1f} min; traces in {args.workdir})")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return 0


async def interruptible(args: argparse.Namespace) -> int:
    """SIGTERM unwinds like Ctrl-C, so the lab's Asterisk, engine and phones are stopped."""
    task = asyncio.ensure_future(run(args))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    return await task


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(interruptible(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
