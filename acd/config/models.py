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
    # Pause reasons that are breaks: refused while a rule suspends breaks (the seeds: "8
    # callers waiting, sustained for 30 minutes -> ... suspend agents' breaks"), and agents
    # on one are asked back. Training and meetings are not breaks.
    break_reasons: list[str] = ["break", "lunch"]


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


class HttpSettings(Strict):
    """The wallboard, supervisor console and agent page (acd/web)."""

    enabled: bool = True
    # Loopback unless configured: these pages pause agents and listen in on calls. Put a
    # TLS reverse proxy in front (and set secure_cookies) before opening them to a network.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # A login lasts this long, then the user signs in again (a shift plus a margin).
    session_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    # Send the session cookie over HTTPS only: on when a TLS proxy serves the pages.
    secure_cookies: bool = False


class MqttSettings(Strict):
    """The MQTT broker the engine publishes its events to (wallboards, agent desktops).

    See docs/events.md for the topics. The password never sits in YAML: it comes from the
    environment variable `password_env` or from `password_file` (owner-only).
    """

    # Loopback unless configured; mqtts:// for TLS (port 8883 unless given).
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password_env: str = "ACD_MQTT_PASSWORD"
    password_file: str | None = None
    # TLS: the CA that signed the broker's certificate (else the system's), and a client
    # certificate with its key for brokers that require one.
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    # Every topic starts with it: "acd/calls/...". Several centres can share a broker.
    topic_prefix: str = Field(default="acd", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    # None: a random id per connection, so two engines never kick each other off the broker.
    client_id: str | None = None
    # Messages held while the broker is away; past this the oldest are dropped (and counted):
    # the engine never waits for the broker.
    queue_size: int = Field(default=10000, ge=1)
    # A publish not acknowledged by then counts as a lost connection (and is sent again).
    publish_timeout: float = Field(default=5.0, gt=0)
    # The screen pop waits this long for the caller's history; then it goes without it.
    screen_pop_timeout: float = Field(default=0.5, gt=0)

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        if not re.match(r"^mqtts?://(\[[0-9A-Fa-f:.]+\]|[^/@:\[\]]+)(:\d{1,5})?/?$", value):
            raise ValueError(
                "must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], without credentials "
                "(the password comes from password_env or password_file)"
            )
        return value

    @model_validator(mode="after")
    def _cert_with_key(self) -> MqttSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if (self.ca_file or self.cert_file) and not self.url.startswith("mqtts://"):
            raise ValueError("ca_file and cert_file are for TLS: use an mqtts:// url")
        return self


class EngineSettings(Strict):
    state_dir: str = ".lab"
    # None: SQLite in the state dir, the embedded default.
    database_url: str | None = None
    # Asterisk-format queue_log (for existing queue reporting tools), relative to state_dir
    # unless absolute; None writes none.
    queue_log: str | None = "queue_log"
    ami: AmiSettings = AmiSettings()
    agi: AgiSettings = AgiSettings()
    http: HttpSettings = HttpSettings()
    # None: no events are published (metrics are always kept).
    mqtt: MqttSettings | None = None


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
    # Where customers' numbers are dialled for callbacks (host:port of the outbound trunk).
    outbound_trunk: str = "127.0.0.1:5098"


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
    # Virtual hold: a waiting caller may press `callbacks.key` to be called back instead of
    # waiting, keeping their place in line.
    virtual_hold: bool = False
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


RuleMetric = Literal[
    "waiting", "longest_wait", "ready_agents", "service_level", "answered", "abandoned"
]
# Metrics counted over a sliding window of recent calls (`window_seconds`).
WINDOWED_METRICS = frozenset({"service_level", "answered", "abandoned"})
RuleOp = Literal[">=", ">", "<=", "<", "==", "!="]
RuleScope = Annotated[str, Field(pattern=r"^(\*|[a-z][a-z0-9_-]{0,39})$")]


class RuleCondition(Strict):
    """One comparison of a queue metric, e.g. `{metric: waiting, op: ">=", value: 8}`.

    `waiting` counts callers not yet answered; `longest_wait` is the seconds the oldest of them
    has waited; `ready_agents` agents free to take a call; `service_level` the share (0-1) of
    calls in the last `window_seconds` answered within the queue's `service_level_seconds`
    (callers who gave up sooner than that are not counted); `answered` / `abandoned` count
    calls in that window. A value that is not known (no calls in the window) never holds.
    """

    metric: RuleMetric
    op: RuleOp
    value: float
    # None: half an hour, for the metrics that have a window.
    window_seconds: float | None = Field(default=None, gt=0, le=86400)

    @property
    def window(self) -> float:
        return 1800.0 if self.window_seconds is None else self.window_seconds

    @model_validator(mode="after")
    def _window_only_where_counted(self) -> RuleCondition:
        if self.window_seconds is not None and self.metric not in WINDOWED_METRICS:
            raise ValueError(f"window_seconds applies to {sorted(WINDOWED_METRICS)} only")
        if self.metric == "service_level" and not 0 <= self.value <= 1:
            raise ValueError("service_level is a share from 0 to 1 (0.8 for 80%)")
        return self


RuleActionKind = Literal[
    "suspend-callbacks", "suspend-breaks", "call-in-supervisors", "cap-callback-agents", "alert"
]


class RuleAction(Strict):
    """What a fired rule makes the centre do, undone when it clears.

    Actions apply to the whole centre whatever the rule's scope: the scope is what a rule
    watches. `cap-callback-agents` needs `value` (the most agents on callbacks at once; with
    several such rules active the lowest cap wins); `alert` needs `message`.
    """

    kind: RuleActionKind
    value: int | None = Field(default=None, ge=0)
    message: str | None = None

    @model_validator(mode="after")
    def _arguments(self) -> RuleAction:
        if (self.kind == "cap-callback-agents") != (self.value is not None):
            raise ValueError("value goes with cap-callback-agents, and only with it")
        if (self.kind == "alert") != (self.message is not None):
            raise ValueError("message goes with alert, and only with it")
        return self


class RuleConfig(Strict):
    """A queue-depth rule (the seeds' peak plan): fires once every `when` condition has held
    without a break for `sustained_seconds`, clears once `clear_when` (default: `when` no
    longer holding) has held for `clear_sustained_seconds`. A rule never clears while its
    `when` still holds, so overlapping conditions cannot make it flap.

    `scope` is a queue name, or "*" for the whole centre (callers waiting in every queue).
    Durations are in seconds (1800 is 30 minutes).
    """

    name: Name
    description: str = ""
    scope: RuleScope = "*"
    when: list[RuleCondition] = Field(min_length=1)
    sustained_seconds: float = Field(default=0.0, ge=0)
    clear_when: list[RuleCondition] | None = Field(default=None, min_length=1)
    clear_sustained_seconds: float = Field(default=0.0, ge=0)
    actions: list[RuleAction] = Field(min_length=1)


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
    callbacks: CallbackSettings = CallbackSettings()
    # Queue-depth rules (dialplans/rules.yaml): the seeds' peak plan.
    rules: list[RuleConfig] = []

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
