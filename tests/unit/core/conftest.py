from __future__ import annotations

from pathlib import Path

import pytest

from acd.clock import ManualClock
from acd.config import Config, load_config
from acd.config.rules import RuleConfig
from acd.core import events as ev
from acd.core.decisions import Announce, CallRecord, Decision, ExitQueue, Offer
from acd.core.driver import Driver as CoreDriver
from tests.unit.site import centre_config

# For the tests that are about the shipped files themselves (they load; they encode the seeds'
# peak plan). Routing tests use the routing centre of tests/unit/site.py (`centre_config()`),
# so an ops edit of dialplans/ moves none.
SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"


@pytest.fixture(scope="session")
def config() -> Config:
    return centre_config()


def shipped_rules() -> list[RuleConfig]:
    """The queue-depth rules of dialplans/rules.yaml, for the tests about the seeds' plan."""
    return load_config(SHIPPED).rules


class Driver(CoreDriver):
    """The consumer in miniature on a manual clock, with the scenario steps the tests use."""

    clock: ManualClock

    def __init__(self, config: Config) -> None:
        super().__init__(config, ManualClock())

    def ready(self, *agents: str) -> None:
        for agent in agents:
            self.send(ev.DeviceState(agent, "NOT_INUSE"))
            self.send(ev.AgentLogin(agent))

    def logged_in_paused(self, *agents: str) -> None:
        """Logged in and registered, but on a break: staff of the queue, not available."""
        for agent in agents:
            self.send(ev.DeviceState(agent, "NOT_INUSE"))
            self.send(ev.AgentLogin(agent))
            self.send(ev.AgentPause(agent, "break"))

    def call(self, call_id: str, queue: str = "general", priority: int = 0) -> list[Decision]:
        return self.send(
            ev.CallEntered(
                call_id, f"PJSIP/callers-{call_id}", "13800138000", "home", queue, priority
            )
        )

    def talk(self, call_id: str, agent: str, seconds: float) -> None:
        """The agent answers the offered call, talks, and hangs up (then wraps up)."""
        self.send(ev.OfferAnswered(call_id, agent))
        self.wait(seconds)
        self.send(ev.AgentLegHungUp(call_id, agent))

    # -- reading the decisions ----------------------------------------------------------
    def offers(self) -> list[Offer]:
        return self.of(Offer)

    def offered_to(self, call_id: str) -> str | None:
        matching = [o.agent for o in self.offers() if o.call_id == call_id]
        return matching[-1] if matching else None

    def exits(self) -> list[ExitQueue]:
        return self.of(ExitQueue)

    def announcements(self) -> list[Announce]:
        return self.of(Announce)

    def record(self, call_id: str) -> CallRecord:
        return [d for d in self.of(CallRecord) if d.call_id == call_id][-1]


@pytest.fixture
def driver(config: Config) -> Driver:
    return Driver(config)
