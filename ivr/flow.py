"""The IVR as a pure state machine: digits, timeouts and silence in; prompts and decisions out.

The FastAGI adapter only plays what a step names and reports what happened (a key, a timeout,
voice or silence), so every menu rule (retries, fallback, back, repeat, hours, the silent-call
rule) is tested here without a phone line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from acd.config.hotlines import (
    Back,
    CallbackSpec,
    Goodbye,
    GotoMenu,
    GotoQueue,
    HotlineConfig,
    LeaveMessage,
    MenuAction,
    MenuConfig,
    MessageSpec,
    Repeat,
    RequestCallback,
    Transfer,
)
from acd.config.models import Config
from ivr.schedule import is_open


@dataclass(frozen=True, slots=True)
class Collect:
    """Play `prompts` in order (any key interrupts: type-ahead) and wait for one key."""

    prompts: tuple[str, ...]
    timeout_seconds: float
    valid_keys: str


@dataclass(frozen=True, slots=True)
class Listen:
    """Say `prompt`, then listen `seconds` for voice (the silent-call rule)."""

    prompt: str
    seconds: float
    voice_ms: int


@dataclass(frozen=True, slots=True)
class Enqueue:
    queue: str
    priority: int


@dataclass(frozen=True, slots=True)
class Hangup:
    """Say goodbye (if a prompt is given) and end the call."""

    prompt: str | None


@dataclass(frozen=True, slots=True)
class Callback:
    """Store a callback request due within `within_working_days`, tell the caller, hang up."""

    queue: str
    kind: str
    within_working_days: int
    prompts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """Play `prompts`, record up to `max_seconds`, thank, hang up."""

    prompts: tuple[str, ...]
    max_seconds: int
    thanks_prompt: str | None


@dataclass(frozen=True, slots=True)
class TransferOut:
    """Dial a partner's number; on failure play `failed_prompt` (the number to call later)."""

    number: str
    ring_seconds: int
    failed_prompt: str


Step = Collect | Listen | Enqueue | Hangup | Callback | Message | TransferOut


class IvrFlow:
    def __init__(self, config: Config, hotline: str) -> None:
        self.hotline: HotlineConfig = config.hotline(hotline)
        self.stack: list[str] = [self.hotline.menu]
        self.failures = 0
        self.pressed = False
        self.silent_checks = 0
        self.path: list[str] = []  # menus visited and keys pressed, for the records

    @property
    def menu(self) -> MenuConfig:
        return self.hotline.menus[self.stack[-1]]

    def start(self, now: datetime) -> Step:
        schedule = self.hotline.schedule
        if schedule is not None and not is_open(schedule, now):
            self.path.append("after-hours")
            return self._after_hours()
        self.path.append(self.stack[-1])
        return self._collect((self.hotline.greeting, self.menu.prompt))

    def on_digit(self, digit: str) -> Step:
        self.pressed = True
        action = self.menu.options.get(digit)
        self.path.append(digit)
        if action is None:
            return self._failed(self.menu.invalid_prompt)
        return self._take(action)

    def on_timeout(self) -> Step:
        self.path.append("timeout")
        silence = self.hotline.silence
        if silence is not None and silence.enabled and not self.pressed:
            # Nobody has pressed anything yet: is anybody there at all?
            return self._listen()
        return self._failed(None)

    def on_silence(self) -> Step:
        silence = self.hotline.silence
        assert silence is not None
        self.path.append("silence")
        if self.silent_checks < silence.times:
            return self._listen()
        return Hangup(silence.goodbye_prompt)

    def on_voice(self) -> Step:
        # Someone is there but does not press keys: a person should take the call.
        self.path.append("voice")
        self.pressed = True
        return self._take(self.menu.fallback)

    def _listen(self) -> Listen:
        silence = self.hotline.silence
        assert silence is not None
        self.silent_checks += 1
        return Listen(silence.prompt, silence.wait_seconds, silence.voice_ms)

    def _after_hours(self) -> Step:
        rule = self.hotline.after_hours
        if rule is None:
            return Hangup(self.hotline.goodbye_prompt)
        if rule.action == "callback" and rule.callback is not None:
            return self._callback(rule.callback, "after-hours", (rule.prompt,))
        if rule.action == "message" and rule.message is not None:
            return self._message(rule.message, (rule.prompt,))
        return Hangup(rule.prompt)

    def _failed(self, prompt: str | None) -> Step:
        self.failures += 1
        if self.failures > self.menu.retries:
            return self._take(self.menu.fallback)
        prompts = (prompt, self.menu.prompt) if prompt else (self.menu.prompt,)
        return self._collect(prompts)

    def _take(self, action: MenuAction) -> Step:
        match action:
            case GotoQueue():
                return Enqueue(action.queue, action.priority)
            case GotoMenu():
                self.stack.append(action.menu)
                self.failures = 0
                self.path.append(action.menu)
                return self._collect((self.menu.prompt,))
            case Back():
                if len(self.stack) > 1:
                    self.stack.pop()
                self.failures = 0
                self.path.append(self.stack[-1])
                return self._collect((self.menu.prompt,))
            case Repeat():
                return self._collect((self.menu.prompt,))
            case RequestCallback():
                return self._callback(action.callback, "callback", ())
            case LeaveMessage():
                return self._message(action.message, ())
            case Transfer():
                spec = action.transfer
                return TransferOut(spec.number, spec.ring_seconds, spec.failed_prompt)
            case Goodbye():
                return Hangup(action.prompt or self.hotline.goodbye_prompt)
        raise AssertionError(f"unhandled menu action {action!r}")

    def _callback(self, spec: CallbackSpec, kind: str, before: tuple[str, ...]) -> Callback:
        return Callback(spec.queue, kind, spec.within_working_days, (*before, spec.prompt))

    def _message(self, spec: MessageSpec, before: tuple[str, ...]) -> Message:
        return Message((*before, spec.prompt), spec.max_seconds, spec.thanks_prompt)

    def _collect(self, prompts: tuple[str, ...]) -> Collect:
        return Collect(prompts, self.menu.timeout_seconds, "".join(self.menu.options))
