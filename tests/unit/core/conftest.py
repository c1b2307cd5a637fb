from __future__ import annotations

from pathlib import Path

import pytest

from acd.clock import ManualClock
from acd.config import Config, load_config
from acd.core import events as ev
from acd.core.core import Core
from acd.core.decisions import Decision

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(SHIPPED)


class Driver:
    """Feeds the core events on a manual clock and keeps every decision, like the engine."""

    def __init__(self, config: Config) -> None:
        self.clock = ManualClock()
        self.core = Core(config)
        self.decisions: list[Decision] = []

    def send(self, event: ev.Event) -> list[Decision]:
        out = self.core.handle(event, self.clock.now())
        self.decisions.extend(out)
        return out

    def wait(self, seconds: float) -> list[Decision]:
        self.clock.advance(seconds)
        return self.send(ev.Tick())

    def ready(self, *agents: str) -> None:
        for agent in agents:
            self.send(ev.DeviceState(agent, "NOT_INUSE"))
            self.send(ev.AgentLogin(agent))

    def call(self, call_id: str, queue: str = "general", priority: int = 0) -> list[Decision]:
        return self.send(
            ev.CallEntered(
                call_id, f"PJSIP/callers-{call_id}", "13800138000", "home", queue, priority
            )
        )


@pytest.fixture
def driver(config: Config) -> Driver:
    return Driver(config)
