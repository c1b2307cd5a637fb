"""The engine's consumer in miniature, for tests of what the records make of core steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.clock import ManualClock
from acd.config import Config
from acd.core import events as ev
from acd.core.decisions import CallRecord, Decision
from acd.core.driver import Driver
from acd.records.items import CallEvent
from acd.records.timeline import Timeline, records_observer

T0 = 1_700_000_000  # whole seconds, so app_queue's whole-second arithmetic is easy to follow
CALLER = "13800138000"


@dataclass
class Replay:
    """The engine's consumer in miniature: core step, then the observer with what it saw."""

    config: Config
    clock: ManualClock = field(default_factory=lambda: ManualClock(float(T0)))
    lines: list[str] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        observe = records_observer(
            Timeline(lambda: self.config), self.events.append, self.lines.extend
        )
        self.driver = Driver(self.config, self.clock, [observe], keep=False)
        self.core = self.driver.core

    def send(self, event: ev.Event) -> list[Decision]:
        decisions = self.driver.send(event)
        self.records += [d for d in decisions if isinstance(d, CallRecord)]
        return decisions

    def at(self, offset: float, event: ev.Event) -> list[Decision]:
        self.to(offset)
        return self.send(event)

    def to(self, offset: float) -> None:
        self.clock.advance(T0 + offset - self.clock.now())

    def ready(self, *agents: str) -> None:
        for number in agents:
            self.send(ev.DeviceState(number, "NOT_INUSE"))
            self.send(ev.AgentLogin(number))

    def call(self, call_id: str, queue_name: str = "general", priority: int = 0) -> None:
        self.send(
            ev.CallEntered(call_id, f"PJSIP/trunk-{call_id}", CALLER, "home", queue_name, priority)
        )

    def record(self, call_id: str) -> CallRecord:
        return [r for r in self.records if r.call_id == call_id][-1]

    def timeline(self, call_id: str) -> list[CallEvent]:
        return [e for e in self.events if e.call_id == call_id]

    def call_lines(self) -> list[str]:
        """The lines about calls (agent membership lines left out)."""
        return [line for line in self.lines if line.split("|")[1] not in ("MANAGER", "NONE")]
