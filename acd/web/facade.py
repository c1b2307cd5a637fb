"""What the web pages need from the engine, and a stand-in that drives a real core without it.

The pages are written against `EngineFacade`, which `acd.engine.Engine` satisfies as it is;
tests and the screenshot script use `CoreFacade`, a real `Core` fed by hand through the one
consumer-in-miniature (`acd.core.driver.Driver`), so the pages are exercised end to end without
Asterisk and a command the core refuses (a break at peak time) is answered as the engine
answers it, not raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from acd.clock import Clock
from acd.config.models import Config
from acd.core import events as ev
from acd.core.core import Core
from acd.core.decisions import Decision
from acd.core.driver import Driver
from acd.settings import Paths
from agents.commands import SpyMode, spy_mode
from agents.state import AgentState

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

    `supervise` only checks what the engine checks without a phone (the request's policy,
    the agent on a call) and remembers the request.
    """

    def __init__(self, config: Config, paths: Paths, clock: Clock) -> None:
        self.config = config
        self.paths = paths
        self.clock = clock
        self.observers: list[Observer] = []
        self.driver = Driver(config, clock, [self._notify], keep=False)
        self.core = self.driver.core
        self._writer = ListWriter()
        self.supervised: list[tuple[SpyMode, str, str]] = []

    @property
    def writer(self) -> ListWriter:
        return self._writer

    def feed(self, event: ev.Event) -> list[Decision]:
        """Hand the core one event and tell the observers, as the engine's consumer does."""
        return self.driver.send(event)

    async def command(self, event: ev.Event) -> str | None:
        return self.driver.command(event)

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        chosen = spy_mode(self.config, mode, agent, supervisor=supervisor)
        target = self.core.agent(agent)
        if target is None or target.state is not AgentState.ON_CALL:
            raise ValueError(f"agent {agent} is not on a call")
        self.supervised.append((chosen, agent, supervisor))

    def _notify(self, event: ev.Event, decisions: list[Decision], now: float) -> None:
        for observer in self.observers:
            observer(event, decisions, now)
