"""1. Offer latency: from entering the queue to the agent's INVITE with an agent idle, and from
an agent's BYE to its next INVITE while callers wait.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass, field

from benchmarks.app_queue.lab import (
    ROUTES,
    Lab,
    first_offers,
    session,
)
from benchmarks.app_queue.stats import median, pct
from benchmarks.sipp_load.phones import run_callers
from benchmarks.sipp_load.scenarios import Talk
from benchmarks.sipp_load.traces import agent_legs, caller_legs


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
