"""What the web pages need from the engine, and a stand-in that drives a real core without it.

The pages are written against `EngineFacade`, which `acd.engine.Engine` satisfies as it is;
tests and the screenshot script use `CoreFacade`, a real `Core` fed by hand, so the pages are
exercised end to end without Asterisk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from acd.clock import Clock
from acd.config.models import Config
from acd.core import events as ev
from acd.core.core import Core, UnknownAgent
from acd.core.decisions import Decision
from acd.settings import Paths
from agents.state import IllegalTransition

Observer = Callable[[ev.Event, list[Decision], float], None]


class RecordSink(Protocol):
    def submit(self, item: Any) -> None: ...


class EngineFacade(Protocol):
    config: Config
    clock: Clock
    core: Core
    paths: Paths
    observers: list[Observer]

    @property
    def writer(self) -> RecordSink: ...

    async def command(self, event: ev.Event) -> str | None:
        """Run an agent command through the engine's consumer; None, or why it was refused."""
        ...

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        """Ring the supervisor's phone to listen, whisper or barge; ValueError says why not."""
        ...


class ListWriter:
    """Keeps what would have been written, in order."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def submit(self, item: Any) -> None:
        self.items.append(item)


class CoreFacade:
    """A real core behind the engine's interface: events go in by `feed`, no Asterisk.

    `supervise` only checks what the engine checks without a phone (the supervisor's role,
    the agent on a call) and remembers the request.
    """

    def __init__(self, config: Config, paths: Paths, clock: Clock) -> None:
        self.config = config
        self.paths = paths
        self.clock = clock
        self.core = Core(config)
        self.observers: list[Observer] = []
        self._writer = ListWriter()
        self.supervised: list[tuple[str, str, str]] = []

    @property
    def writer(self) -> ListWriter:
        return self._writer

    def feed(self, event: ev.Event) -> list[Decision]:
        """Hand the core one event and tell the observers, as the engine's consumer does."""
        now = self.clock.now()
        decisions = self.core.handle(event, now)
        for observer in self.observers:
            observer(event, decisions, now)
        return decisions

    async def command(self, event: ev.Event) -> str | None:
        try:
            self.feed(event)
        except (IllegalTransition, UnknownAgent) as exc:
            return str(exc)
        return None

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        spec = next((a for a in self.config.agents if a.number == supervisor), None)
        if spec is None or spec.role != "supervisor":
            raise ValueError(f"{supervisor} is not a supervisor")
        target = self.core.agents.get(agent)
        if target is None or target.state.value != "on-call":
            raise ValueError(f"agent {agent} is not on a call")
        self.supervised.append((mode, agent, supervisor))
