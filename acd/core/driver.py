"""The engine's consumer in miniature: a core fed events at a clock's time, nothing else.

The engine's consumer task does four things for every event: read the clock, hand the core
the event at that time, keep what it decided, and tell the observers (timeline, metrics, MQTT,
the web). Tests, the simulator, the web's stand-in facade and the benchmarks need exactly that
loop without Asterisk, so it is written here once instead of once per user.

Observers are called in the order given, after the core has answered, with
`(event, decisions, now)` — the engine's observer signature; what they return is ignored
(so a mapper that returns its messages can be an observer as it is). An observer's error is
not caught: outside the engine, a failing observer is a failing test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from acd.clock import Clock, ManualClock
from acd.config.models import Config
from acd.core import events as ev
from acd.core.core import Core, Refused, UnknownAgent
from acd.core.decisions import Decision
from agents.state import IllegalTransition

Observer = Callable[[ev.Event, list[Decision], float], object]
"""Told of every step after the core: the event, what the core decided, and when."""

D = TypeVar("D", bound=Decision)

REFUSALS = (IllegalTransition, UnknownAgent, Refused)
"""What the core raises for an agent command it will not carry out (see `command`)."""


class Driver:
    """A `Core` fed events at `clock`'s time; every decision kept (unless `keep` is off).

    `keep=False` is for long runs (the simulator, benchmarks) that read each step's
    decisions as they come and must not hold a run's worth of them.
    """

    def __init__(
        self,
        config: Config,
        clock: Clock | None = None,
        observers: Iterable[Observer] = (),
        *,
        keep: bool = True,
    ) -> None:
        self.clock: Clock = ManualClock() if clock is None else clock
        self.core = Core(config)
        self.observers: list[Observer] = list(observers)
        self.decisions: list[Decision] = []
        self.keep = keep

    def send(self, event: ev.Event, now: float | None = None) -> list[Decision]:
        """One step: the core handles `event` at `now` (the clock's time unless given).

        An explicit `now` is for a driver with its own time source (the simulator's heap of
        world events); it must not be earlier than the step before, as for the engine.
        """
        at = self.clock.now() if now is None else now
        decisions = self.core.handle(event, at)
        if self.keep:
            self.decisions.extend(decisions)
        for observer in self.observers:
            observer(event, decisions, at)
        return decisions

    def tick(self) -> list[Decision]:
        """Let the core's timers that are due by now fire (the engine's timer task)."""
        return self.send(ev.Tick())

    def wait(self, seconds: float) -> list[Decision]:
        """Move a manual clock on by `seconds`, then one `Tick` at the new time."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("only a manual clock can be moved on by hand")
        clock.advance(seconds)
        return self.tick()

    def command(self, event: ev.Event) -> str | None:
        """An agent's or supervisor's command: None, or why the core refused it.

        The engine answers a refused command with the reason instead of failing; this is that
        answer, so callers outside the engine see the same thing at the same moments.
        """
        try:
            self.send(event)
        except REFUSALS as exc:
            return str(exc)
        return None

    def now(self) -> float:
        return self.clock.now()

    def next_deadline(self) -> float | None:
        """When the core's next timer is due (None: none armed)."""
        return self.core.next_deadline()

    def of(self, kind: type[D]) -> list[D]:
        """The kept decisions of one type, in the order they were made."""
        return [d for d in self.decisions if isinstance(d, kind)]
