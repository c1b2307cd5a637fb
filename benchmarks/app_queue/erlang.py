"""3. Erlang check: Poisson arrivals on a fixed team against Erlang C, measured from the traces
and cross-checked with the engine's records and app_queue's queue_log.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from acd.staffing.erlang import erlang_c
from benchmarks.app_queue.lab import (
    ROUTES,
    Lab,
    connected,
    first_offers,
    session,
)
from benchmarks.app_queue.stats import wilson
from benchmarks.sipp_load.phones import run_callers
from benchmarks.sipp_load.scenarios import Talk
from benchmarks.sipp_load.traces import CallerLeg, agent_legs, caller_legs

ERLANG = {"agents": 14, "rate": 1.11, "aht": 9.0, "target": 1.0}
WAITED = 0.5  # a caller offered later than this after entering did wait for an agent


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
