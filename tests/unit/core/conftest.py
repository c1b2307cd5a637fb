from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest

from acd.clock import ManualClock
from acd.config import Config, load_config
from acd.config.hotlines import GotoQueue, HotlineConfig, MenuConfig
from acd.config.models import AgentConfig
from acd.config.queues import QueueConfig
from acd.config.rules import RuleConfig
from acd.core import events as ev
from acd.core.decisions import Announce, CallRecord, Decision, ExitQueue, Offer
from acd.core.driver import Driver as CoreDriver

# For the tests that are about the shipped files themselves (they load; they encode the seeds'
# peak plan). Routing tests use `centre_config()` below, so an ops edit of dialplans/ moves none.
SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"

HOTLINE = "home"


def centre_config(rules: list[RuleConfig] | None = None) -> Config:
    """The centre the core's tests are written against, built here: three queues (the
    defaults give the seeds' 15 s ring and 10 s wrap-up; general offers virtual hold), four
    agents and a supervisor with the skills below, one hotline, and no queue-depth rules
    unless given."""
    return Config(
        skills={name: name for name in ("housekeeping", "moving", "repairs", "jobs")},
        queues=[
            queue("general", {"housekeeping": 1}, virtual_hold=True),
            queue("repairs", {"repairs": 1}),
            queue("jobs", {"jobs": 1}),
        ],
        agents=[
            agent("1001", housekeeping=5, moving=3),
            agent("1002", housekeeping=3, repairs=4),
            agent("1003", repairs=5, moving=4, jobs=2),
            agent("1004", jobs=5, housekeeping=2),
            agent("1090", "supervisor", housekeeping=5, repairs=5, jobs=5),
        ],
        hotlines=[
            HotlineConfig(
                name=HOTLINE,
                extension="100",
                greeting="greeting",
                menu="main",
                menus={
                    "main": MenuConfig(
                        prompt="main_menu",
                        options={"1": GotoQueue(queue="general")},
                        fallback=GotoQueue(queue="general"),
                    )
                },
            )
        ],
        rules=rules or [],
    )


@pytest.fixture(scope="session")
def config() -> Config:
    return centre_config()


def shipped_rules() -> list[RuleConfig]:
    """The queue-depth rules of dialplans/rules.yaml, for the tests about the seeds' plan."""
    return load_config(SHIPPED).rules


def configured(
    config: Config,
    queues: list[QueueConfig] | None = None,
    agents: list[AgentConfig] | None = None,
) -> Config:
    """`config` with other queues and/or agents, for rules the test centre lacks."""
    update: dict[str, Any] = {}
    if queues is not None:
        update["queues"] = queues
    if agents is not None:
        update["agents"] = agents
    return config.model_copy(update=update)


def queue(name: str = "general", skills: dict[str, int] | None = None, **kw: Any) -> QueueConfig:
    return QueueConfig(name=name, skills=skills or {"housekeeping": 1}, **kw)


def agent(
    number: str, role: Literal["agent", "supervisor"] = "agent", **skills: int
) -> AgentConfig:
    return AgentConfig(number=number, skills=skills, role=role)


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
