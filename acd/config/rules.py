"""Queue-depth rules (`dialplans/rules.yaml`, the seeds' peak plan): conditions over queue
metrics, sustained for a time, and the actions that stay in force while a rule has fired.

The rules are evaluated by `acd.core.rules`; this is only what ops may write.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from acd.config.base import Name, Strict

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
