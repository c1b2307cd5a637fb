"""A hotline's shape: the number callers dial, its greeting, menus, hours and after-call steps.

The part of `dialplans/hotlines.yaml` the IVR walks (`ivr.flow`): menu actions are a union of
one-key models (`queue:`, `menu:`, `goodbye:`, `callback:`, `message:`, `transfer:`, `repeat:`,
`back:`), so a YAML option is exactly one of them or an error.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from acd.config.base import Digits, Name, Strict
from acd.config.schedule import ScheduleConfig


class GotoQueue(Strict):
    queue: Name
    priority: int = Field(default=0, ge=0, le=100)


class GotoMenu(Strict):
    menu: Name


class Goodbye(Strict):
    goodbye: Literal[True]
    prompt: Name | None = None  # default: the hotline's goodbye_prompt


class CallbackSpec(Strict):
    queue: Name
    # The seeds: after hours, "call back within five working days".
    within_working_days: int = Field(default=1, ge=0, le=30)
    prompt: Name  # "we will call you back"


class RequestCallback(Strict):
    callback: CallbackSpec


class MessageSpec(Strict):
    prompt: Name  # "please leave your message after the tone"
    max_seconds: int = Field(default=120, ge=5, le=600)
    thanks_prompt: Name | None = None


class LeaveMessage(Strict):
    message: MessageSpec


class TransferSpec(Strict):
    number: Annotated[str, Field(pattern=r"^\+?[0-9]{2,20}$")]
    # The seeds: on transfer failure, give the number to call back later.
    failed_prompt: Name
    ring_seconds: int = Field(default=30, ge=5, le=120)


class Transfer(Strict):
    transfer: TransferSpec


class Repeat(Strict):
    repeat: Literal[True]


class Back(Strict):
    back: Literal[True]


MenuAction = (
    GotoQueue | GotoMenu | Goodbye | RequestCallback | LeaveMessage | Transfer | Repeat | Back
)


class MenuConfig(Strict):
    prompt: Name
    options: dict[Digits, MenuAction] = Field(min_length=1)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    invalid_prompt: Name | None = None
    # Never a dead end: after the retries the caller goes here.
    fallback: MenuAction

    @field_validator("options")
    @classmethod
    def _single_digit(cls, value: dict[str, MenuAction]) -> dict[str, MenuAction]:
        for digit in value:
            if not re.fullmatch(r"[0-9*#]", digit):
                raise ValueError(f"option {digit!r} must be one key: 0-9, * or #")
        return value


class AfterHours(Strict):
    """What a caller outside business hours gets: the hours, a callback, or a message."""

    action: Literal["tell-hours", "callback", "message"] = "tell-hours"
    prompt: Name  # tells the hours (and, for callback/message, what happens next)
    callback: CallbackSpec | None = None
    message: MessageSpec | None = None

    @model_validator(mode="after")
    def _needs_spec(self) -> AfterHours:
        if self.action == "callback" and self.callback is None:
            raise ValueError("action callback needs a callback section")
        if self.action == "message" and self.message is None:
            raise ValueError("action message needs a message section")
        return self


class SilenceRule(Strict):
    """The seeds' silent call: "您好,电话已接通,请讲", 5 s, again, 5 s, apologise, hang up."""

    enabled: bool = True
    prompt: Name
    wait_seconds: float = Field(default=5.0, gt=0, le=30)
    times: int = Field(default=2, ge=1, le=5)
    goodbye_prompt: Name
    # How much sound (ms, by Asterisk's WaitForNoise and dsp.conf's threshold) is a voice.
    voice_ms: int = Field(default=300, ge=50, le=5000)


class SurveyConfig(Strict):
    """Post-call satisfaction survey, heard when the agent hangs up first."""

    enabled: bool = True
    prompt: Name
    scale: int = Field(default=5, ge=2, le=9)
    # Scores at or below this are "dissatisfied": flagged for the team lead's review.
    dissatisfied_at_or_below: int = Field(default=2, ge=1)
    thanks_prompt: Name | None = None
    timeout_seconds: float = Field(default=6.0, gt=0, le=30)


class HotlineConfig(Strict):
    name: Name
    extension: Digits
    language: Literal["zh", "en"] = "zh"
    greeting: Name
    menu: Name
    menus: dict[Name, MenuConfig] = Field(min_length=1)
    goodbye_prompt: Name | None = None
    # None: always open.
    schedule: ScheduleConfig | None = None
    after_hours: AfterHours | None = None
    silence: SilenceRule | None = None
    survey: SurveyConfig | None = None
