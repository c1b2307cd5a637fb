"""What a report is: what to report (`ReportSpec`), its figures and its rows.

Apart from the arithmetic in `acd.reports.compute` because the renderers, the charts and the
CLI only need these shapes and the defaults behind them, not how the figures are tallied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

#: The seeds' rule as the default T ("answer within 3 rings"), as in QueueConfig.
DEFAULT_SERVICE_LEVEL_SECONDS = 15.0
DEFAULT_SHORT_ABANDON_SECONDS = 5.0
#: The industry's common 80/20 goal; the target line on the service level chart.
DEFAULT_SERVICE_LEVEL_TARGET = 0.8


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """What to report: the range [start, end) and the rules figures are computed by."""

    start: datetime
    end: datetime
    timezone: tzinfo
    interval: timedelta = timedelta(minutes=30)
    # Agent states are cut here when the range reaches into the future.
    as_of: datetime | None = None
    short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS
    # T by queue name; queues not listed (renamed or removed since) use the default.
    service_level_seconds: Mapping[str, float] = field(default_factory=dict)
    default_service_level_seconds: float = DEFAULT_SERVICE_LEVEL_SECONDS
    service_level_target: float = DEFAULT_SERVICE_LEVEL_TARGET
    queue: str | None = None
    agent: str | None = None

    def threshold(self, queue: str) -> float:
        return self.service_level_seconds.get(queue, self.default_service_level_seconds)

    @property
    def state_end(self) -> datetime:
        return self.end if self.as_of is None else max(self.start, min(self.end, self.as_of))


@dataclass(frozen=True, slots=True)
class Figures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    answered_in_sl: int = 0
    handled: int = 0
    service_level: float | None = None
    answer_rate: float | None = None
    abandon_rate: float | None = None
    asa_seconds: float | None = None
    avg_talk_seconds: float | None = None
    avg_wrapup_seconds: float | None = None
    aht_seconds: float | None = None
    callbacks_made: int = 0
    callbacks_succeeded: int = 0
    surveys: int = 0
    survey_average: float | None = None
    dissatisfied: int = 0
    dissatisfied_rate: float | None = None
    # Agent time: None for queue rows.
    logged_in_seconds: float | None = None
    on_call_seconds: float | None = None
    wrapup_state_seconds: float | None = None
    occupancy: float | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report: an interval, a queue, an agent, or the total."""

    scope: str  # "interval", "queue", "agent", "total"
    figures: Figures
    start: datetime | None = None  # intervals: [start, end) in the centre's time zone
    end: datetime | None = None
    queue: str | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    spec: ReportSpec
    intervals: tuple[Row, ...]
    queues: tuple[Row, ...]
    agents: tuple[Row, ...]
    total: Row
