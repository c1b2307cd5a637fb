"""The shape of `dialplans/`: what ops may write, with the seeds' rules as defaults.

Every model forbids unknown keys (`Strict`): a typo in a YAML file must be an error, not a
setting that silently does nothing. This module holds the contact centre itself (the centre,
queues, agents, hotlines and their menus, callbacks) and the root `Config`; the engine's own
settings are in `adapters`, business hours in `schedule`, queue-depth rules in `rules`. Their
names are imported here too, so `from acd.config.models import X` works for any shape.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from acd.config.adapters import (
    AgiSettings,
    AmiSettings,
    AsteriskSettings,
    EngineSettings,
    HttpSettings,
    MqttSettings,
    SipSettings,
)
from acd.config.base import NAME, Digits, Name, SkillLevel, Strict
from acd.config.rules import (
    WINDOWED_METRICS,
    RuleAction,
    RuleActionKind,
    RuleCondition,
    RuleConfig,
    RuleMetric,
    RuleOp,
    RuleScope,
)
from acd.config.schedule import ScheduleConfig, around_the_clock


class Centre(Strict):
    name: str = "家政服务专线"
    timezone: str = "Asia/Shanghai"
    # Language of what agents hear on their own phones (feature-code prompts).
    language: Literal["zh", "en"] = "zh"
    # Recordings are deleted (files first, then rows marked) after this many days.
    recording_retention_days: int = Field(default=365, ge=1)
    # The seeds: a "dissatisfied" rating -> the team lead listens within 2 hours.
    review_within_hours: float = Field(default=2.0, gt=0)
    # `*43` + this key pauses an agent with the reason; `*43` alone means "break".
    pause_reasons: dict[Annotated[str, Field(pattern=r"^[0-9]$")], str] = Field(
        default={"1": "break", "2": "lunch", "3": "training", "4": "meeting"}
    )
    # Pause reasons that are breaks: refused while a rule suspends breaks (the seeds: "8
    # callers waiting, sustained for 30 minutes -> ... suspend agents' breaks"), and agents
    # on one are asked back. Training and meetings are not breaks.
    break_reasons: list[str] = Field(default=["break", "lunch"])


class ExpansionStep(Strict):
    """After a caller has waited `after_seconds`, widen who may take the call.

    Exactly one of: lower the minimum level of the queue's skills (`min_level`), also accept
    agents holding other skills (`also_skills`), or move the call to another queue (`overflow`).
    """

    after_seconds: float = Field(ge=0)
    min_level: SkillLevel | None = None
    also_skills: dict[str, SkillLevel] | None = None
    overflow: Name | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ExpansionStep:
        chosen = [x for x in (self.min_level, self.also_skills, self.overflow) if x is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of min_level, also_skills, overflow")
        return self


class QueueExit(Strict):
    """Where a caller goes when a queue will not keep them: another queue, or a goodbye."""

    queue: Name | None = None
    goodbye_prompt: Name | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> QueueExit:
        if (self.queue is None) == (self.goodbye_prompt is None):
            raise ValueError("give exactly one of queue, goodbye_prompt")
        return self


Strategy = Literal["longest-idle", "fewest-calls", "least-occupied", "round-robin"]


class RecordingPolicy(Strict):
    """The seeds: every call is recorded. A percentage samples calls for QA instead."""

    policy: Literal["always", "never", "percent"] = "always"
    percent: float = Field(default=100.0, ge=0, le=100)
    # Told to the caller as they join the queue, before the wait and the recording.
    announce_prompt: Name | None = None


class QueueConfig(Strict):
    name: Name
    description: str = ""
    # skill -> minimum level an agent needs to be offered this queue's calls
    skills: dict[str, SkillLevel] = Field(min_length=1)
    # The seeds: answer within 3 rings (about 5 s a ring here).
    ring_timeout: float = Field(default=15.0, gt=0, le=300)
    # Service level threshold for `acd report`: a call answered within this many seconds of
    # reaching the queue counts as "in service level". The seeds: "Answer within **3 rings**"
    # (about 5 s a ring here, as for ring_timeout).
    service_level_seconds: float = Field(default=15.0, gt=0, le=3600)
    wrapup_seconds: float = Field(default=10.0, ge=0, le=3600)
    # After a no-answer the agent is paused so the next caller does not ring an empty desk.
    pause_on_no_answer: bool = True
    # Among matching ready agents: highest skill match first, then this.
    strategy: Strategy = "longest-idle"
    # Widening steps over wait time, in order of after_seconds.
    expansion: list[ExpansionStep] = Field(default=[])
    max_wait_seconds: float | None = Field(default=None, gt=0)
    on_timeout: QueueExit | None = None
    max_waiting: int | None = Field(default=None, ge=1)
    on_full: QueueExit | None = None
    # app_queue's joinempty/leavewhenempty: with no agent of the queue logged in, a caller
    # is not kept waiting for nobody.
    join_when_empty: bool = True
    leave_when_empty: bool = False
    on_empty: QueueExit | None = None
    # Position and expected wait told to waiting callers this often; 0 = never.
    announce_every_seconds: float = Field(default=60.0, ge=0)
    # Handle-time estimate before the queue has history of its own (seconds).
    initial_handle_seconds: float = Field(default=180.0, gt=0)
    # Virtual hold: a waiting caller may press `callbacks.key` to be called back instead of
    # waiting, keeping their place in line.
    virtual_hold: bool = False
    recording: RecordingPolicy = RecordingPolicy()


class AgentConfig(Strict):
    number: Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]  # the seeds' work number
    name: str = ""
    skills: dict[str, SkillLevel] = Field(default={})
    role: Literal["agent", "supervisor"] = "agent"
    trainee: bool = False
    # Log the agent in when the engine starts (lab and small sites); otherwise they log in
    # from the CLI or their phone.
    auto_login: bool = False


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


class PromptText(Strict):
    zh: str | None = None
    en: str | None = None


class CallbackSettings(Strict):
    """The callback dialer: virtual-hold callers and scheduled callbacks (after hours,
    revisits). The agent is rung first and the customer dialled with the agent on the line."""

    # The key a waiting caller presses to be called back (queues with virtual_hold).
    key: Annotated[str, Field(pattern=r"^[0-9*#]$")] = "1"
    # Dials of one callback before it is given up, and the gap between two.
    max_attempts: int = Field(default=3, ge=1, le=20)
    retry_gap_seconds: float = Field(default=1800.0, gt=0)
    # How long the customer's phone rings on a callback.
    ring_seconds: float = Field(default=30.0, gt=0, le=300)
    # How often due scheduled callbacks are looked up in the records.
    poll_seconds: float = Field(default=30.0, gt=0)
    # Agents on scheduled callbacks at once, whatever the rules say (None: no fixed cap; the
    # seeds' "at most 2 agents on callbacks" in peaks is a rule, see rules.yaml).
    max_agents: int | None = Field(default=None, ge=0)


class Config(Strict):
    centre: Centre = Centre()
    engine: EngineSettings = EngineSettings()
    sip: SipSettings = SipSettings()
    asterisk: AsteriskSettings = AsteriskSettings()
    skills: dict[Name, str] = Field(min_length=1)
    queues: list[QueueConfig] = Field(min_length=1)
    agents: list[AgentConfig] = Field(default=[])
    hotlines: list[HotlineConfig] = Field(min_length=1)
    prompts: dict[Name, PromptText] = Field(default={})
    callbacks: CallbackSettings = CallbackSettings()
    # Queue-depth rules (dialplans/rules.yaml): the seeds' peak plan.
    rules: list[RuleConfig] = Field(default=[])

    def queue(self, name: str) -> QueueConfig:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)

    def hotline(self, name: str) -> HotlineConfig:
        for hotline in self.hotlines:
            if hotline.name == name:
                return hotline
        raise KeyError(name)

    def agent(self, number: str) -> AgentConfig | None:
        """The agent with this work number, or None when the config has no such agent.

        None rather than KeyError (unlike `queue` and `hotline`): queue and hotline names come
        from the config itself and are cross-checked when it loads, so a missing one is a bug,
        while an agent number comes from outside (a phone, a login, a CLI argument, the
        records of a call taken before the agent left) and an unknown one is an ordinary
        answer every caller has to handle. Numbers are unique in a loaded config (`acd check`
        refuses duplicates); in a hand-built one the first listed wins.
        """
        for agent in self.agents:
            if agent.number == number:
                return agent
        return None

    def calendar_for(self, hotline: str) -> ScheduleConfig:
        """The business calendar a hotline's promises are dated on ("within 5 working days").

        Its schedule; a hotline without one is open around the clock (every day a working day,
        closing at midnight), in the centre's time zone since it has none of its own. A name the
        config no longer has (a call recorded before a hotline was renamed) gets the centre's
        calendar too: a due date must still be given, and the centre is where the call was.
        """
        try:
            schedule = self.hotline(hotline).schedule
        except KeyError:
            schedule = None
        return schedule if schedule is not None else around_the_clock(self.centre.timezone)


# The shapes other modules define, importable from here as they always were.
__all__ = [
    "NAME",
    "WINDOWED_METRICS",
    "AfterHours",
    "AgentConfig",
    "AgiSettings",
    "AmiSettings",
    "AsteriskSettings",
    "Back",
    "CallbackSettings",
    "CallbackSpec",
    "Centre",
    "Config",
    "Digits",
    "EngineSettings",
    "ExpansionStep",
    "Goodbye",
    "GotoMenu",
    "GotoQueue",
    "HotlineConfig",
    "HttpSettings",
    "LeaveMessage",
    "MenuAction",
    "MenuConfig",
    "MessageSpec",
    "MqttSettings",
    "Name",
    "PromptText",
    "QueueConfig",
    "QueueExit",
    "RecordingPolicy",
    "Repeat",
    "RequestCallback",
    "RuleAction",
    "RuleActionKind",
    "RuleCondition",
    "RuleConfig",
    "RuleMetric",
    "RuleOp",
    "RuleScope",
    "ScheduleConfig",
    "SilenceRule",
    "SipSettings",
    "SkillLevel",
    "Strategy",
    "Strict",
    "SurveyConfig",
    "Transfer",
    "TransferSpec",
]
