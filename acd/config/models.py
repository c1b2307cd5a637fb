"""The shape of `dialplans/`: what ops may write, with the seeds' rules as defaults.

Every model forbids unknown keys: a typo in a YAML file must be an error, not a setting that
silently does nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from ivr.schedule import ScheduleConfig

NAME = r"^[a-z][a-z0-9_-]{0,39}$"
Name = Annotated[str, Field(pattern=NAME)]
Digits = Annotated[str, Field(pattern=r"^[0-9*#]{1,20}$")]
SkillLevel = Annotated[int, Field(ge=1, le=5)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    pause_reasons: dict[Annotated[str, Field(pattern=r"^[0-9]$")], str] = {
        "1": "break",
        "2": "lunch",
        "3": "training",
        "4": "meeting",
    }


class AmiSettings(Strict):
    # Loopback unless configured: AMI can originate calls, it must never face a network.
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "acd"
    ping_interval: float = Field(default=10.0, gt=0)
    ping_timeout: float = Field(default=5.0, gt=0)


class AgiSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=1, le=65535)


class EngineSettings(Strict):
    state_dir: str = ".lab"
    # None: SQLite in the state dir, the embedded default.
    database_url: str | None = None
    ami: AmiSettings = AmiSettings()
    agi: AgiSettings = AgiSettings()


class AsteriskSettings(Strict):
    # Where `acd render` writes the generated include files.
    conf_dir: str = "asterisk-conf/generated"
    # Asterisk's sounds directory: prompts are rendered into its `acd/` folder.
    sounds_dir: str = ".lab/root/usr/share/asterisk/sounds"
    # Messages and recordings, as Asterisk sees the folder and as the engine sees it (the same
    # path unless Asterisk runs in a chroot or container, like the lab's).
    spool_dir: str = "/var/spool/asterisk/acd"
    spool_dir_local: str = ".lab/root/var/spool/asterisk/acd"
    # Longest a caller holds with no engine decision before the dialplan's fallback route.
    max_hold_seconds: int = Field(default=1800, ge=10)


class SipSettings(Strict):
    bind: str = "127.0.0.1"
    port: int = Field(default=5060, ge=1, le=65535)
    # Where callers' calls come from (a trunk or test caller). Agents are identified by their
    # username first, so an agent on the same address is still an agent, not a caller.
    caller_match: list[str] = ["127.0.0.1"]
    # OPTIONS pings to agents' phones; 0 relies on registration expiry alone.
    qualify_seconds: int = Field(default=30, ge=0)
    codecs: list[str] = ["ulaw", "alaw"]
    # Phones behind NAT need Asterisk to reach them at the address their REGISTER came from;
    # on a LAN the Contact they send is right, and rewriting it would break phones that
    # register from one port and take calls on another.
    agents_behind_nat: bool = False
    # Where partners' numbers are dialled for IVR transfers (host:port of a SIP trunk).
    partners_trunk: str = "127.0.0.1:5099"


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
    wrapup_seconds: float = Field(default=10.0, ge=0, le=3600)
    # After a no-answer the agent is paused so the next caller does not ring an empty desk.
    pause_on_no_answer: bool = True
    # Among matching ready agents: highest skill match first, then this.
    strategy: Strategy = "longest-idle"
    # Widening steps over wait time, in order of after_seconds.
    expansion: list[ExpansionStep] = []
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
    recording: RecordingPolicy = RecordingPolicy()


class AgentConfig(Strict):
    number: Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]  # the seeds' work number
    name: str = ""
    skills: dict[str, SkillLevel] = {}
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


class Config(Strict):
    centre: Centre = Centre()
    engine: EngineSettings = EngineSettings()
    sip: SipSettings = SipSettings()
    asterisk: AsteriskSettings = AsteriskSettings()
    skills: dict[Name, str] = Field(min_length=1)
    queues: list[QueueConfig] = Field(min_length=1)
    agents: list[AgentConfig] = []
    hotlines: list[HotlineConfig] = Field(min_length=1)
    prompts: dict[Name, PromptText] = {}

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


def _resolve_forward_refs() -> None:
    # ivr.schedule builds on `Strict` from this module, so it is imported after it exists.
    from ivr.schedule import ScheduleConfig

    HotlineConfig.model_rebuild(_types_namespace={"ScheduleConfig": ScheduleConfig})
    Config.model_rebuild(_types_namespace={"ScheduleConfig": ScheduleConfig})


_resolve_forward_refs()
