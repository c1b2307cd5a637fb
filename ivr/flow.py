"""The IVR as a pure state machine: digits and timeouts in, prompts and decisions out.

The FastAGI adapter only plays what a `Collect` names and reports what the caller pressed, so
every menu rule (retries, fallback, type-ahead) is tested here without a phone line.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.config.models import Config, GotoMenu, GotoQueue, HotlineConfig, MenuAction, MenuConfig


@dataclass(frozen=True, slots=True)
class Collect:
    """Play `prompts` in order (any key interrupts) and wait for one key."""

    prompts: tuple[str, ...]
    timeout_seconds: float
    valid_keys: str


@dataclass(frozen=True, slots=True)
class Enqueue:
    queue: str
    priority: int


@dataclass(frozen=True, slots=True)
class Goodbye:
    prompt: str | None


Step = Collect | Enqueue | Goodbye


class IvrFlow:
    def __init__(self, config: Config, hotline: str) -> None:
        self.hotline: HotlineConfig = config.hotline(hotline)
        self.menu_name = self.hotline.menu
        self.failures = 0
        self.path: list[str] = []  # menus visited and keys pressed, for the records

    @property
    def menu(self) -> MenuConfig:
        return self.hotline.menus[self.menu_name]

    def start(self) -> Step:
        self.path.append(self.menu_name)
        return self._collect((self.hotline.greeting, self.menu.prompt))

    def on_digit(self, digit: str) -> Step:
        action = self.menu.options.get(digit)
        self.path.append(digit)
        if action is None:
            return self._failed(self.menu.invalid_prompt)
        return self._take(action)

    def on_timeout(self) -> Step:
        self.path.append("timeout")
        return self._failed(None)

    def _failed(self, prompt: str | None) -> Step:
        self.failures += 1
        if self.failures > self.menu.retries:
            return self._take(self.menu.fallback)
        prompts = (prompt, self.menu.prompt) if prompt else (self.menu.prompt,)
        return self._collect(prompts)

    def _take(self, action: MenuAction) -> Step:
        if isinstance(action, GotoQueue):
            return Enqueue(action.queue, action.priority)
        if isinstance(action, GotoMenu):
            self.menu_name = action.menu
            self.failures = 0
            self.path.append(action.menu)
            return self._collect((self.menu.prompt,))
        return Goodbye(self.hotline.goodbye_prompt)

    def _collect(self, prompts: tuple[str, ...]) -> Collect:
        return Collect(prompts, self.menu.timeout_seconds, "".join(self.menu.options))
