"""A queue's shape: who may take its calls, how long they ring, how the wait widens and ends.

The part of `dialplans/queues.yaml` the core routes by (`acd.core.routing`, `acd.core.entities`);
kept apart from the hotlines, which only name a queue, and from the root `Config`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from acd.config.base import Name, SkillLevel, Strict


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
