"""The shape of `dialplans/`: what ops may write, with the seeds' rules as defaults.

Every model forbids unknown keys (`Strict`): a typo in a YAML file must be an error, not a
setting that silently does nothing. This module holds the centre, its agents, prompts and
callback dialer, and the root `Config` that ties the files together; each part has its own
module: queues in `queues`, hotlines and their menus in `hotlines`, the engine's own settings
in `adapters`, business hours in `schedule`, queue-depth rules in `rules`, the shared field
types in `base`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from acd.config.adapters import AsteriskSettings, EngineSettings, SipSettings
from acd.config.base import Name, SkillLevel, Strict
from acd.config.hotlines import HotlineConfig
from acd.config.queues import QueueConfig
from acd.config.rules import RuleConfig
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


class AgentConfig(Strict):
    number: Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]  # the seeds' work number
    name: str = ""
    skills: dict[str, SkillLevel] = Field(default={})
    role: Literal["agent", "supervisor"] = "agent"
    trainee: bool = False
    # Log the agent in when the engine starts (lab and small sites); otherwise they log in
    # from the CLI or their phone.
    auto_login: bool = False


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
