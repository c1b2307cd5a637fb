"""The benchmark's private lab (engine configs and Asterisk for N agents) and one route's
session: the agents' phones registered and, for the engine route, a fresh engine on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import livelab
from benchmarks.sipp_load.phones import AgentBank
from benchmarks.sipp_load.scenarios import Talk
from benchmarks.sipp_load.traces import AgentLeg

ROUTES = ("app_queue", "engine")
RING_TIMEOUT = 15.0
WRAPUP = 0.0


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
