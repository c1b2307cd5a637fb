"""A report as a text table for the terminal, CSV for spreadsheets, or JSON for programs.

Rates are fractions (0.8) in CSV and JSON and percentages in text; seconds are seconds
everywhere. A figure that has no value (no calls to divide by) is "-" in text, empty in CSV
and null in JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from acd.reports.report import Figures, Report, Row

FIGURE_FIELDS = tuple(f.name for f in fields(Figures))
ROW_KEYS = ("scope", "start", "end", "queue", "agent")
#: JSON and CSV keep this many decimals: enough to recompute any figure, short enough to read.
DECIMALS = 4


def _number(value: float | int | None) -> float | int | None:
    return round(value, DECIMALS) if isinstance(value, float) else value


def _figures(figures: Figures) -> dict[str, Any]:
    return {name: _number(getattr(figures, name)) for name in FIGURE_FIELDS}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _thresholds(report: Report) -> dict[str, float]:
    """T of every queue in the report (configured, or the default)."""
    spec = report.spec
    names = {row.queue for row in report.queues if row.queue} | set(spec.service_level_seconds)
    if spec.queue is not None:
        names = {spec.queue}
    return {name: spec.threshold(name) for name in sorted(names)}


def to_dict(report: Report) -> dict[str, Any]:
    """The JSON document: range, settings, then rows by interval, queue and agent, and totals."""
    spec = report.spec
    return {
        "range": {
            "from": _iso(spec.start.astimezone(spec.timezone)),
            "to": _iso(spec.end.astimezone(spec.timezone)),
            "timezone": str(spec.timezone),
            "interval_seconds": spec.interval.total_seconds(),
        },
        "filters": {"queue": spec.queue, "agent": spec.agent},
        "settings": {
            "short_abandon_seconds": spec.short_abandon_seconds,
            "service_level_target": spec.service_level_target,
            "service_level_seconds": _thresholds(report),
        },
        "intervals": [
            {"start": _iso(r.start), "end": _iso(r.end), **_figures(r.figures)}
            for r in report.intervals
        ],
        "queues": [
            {
                "queue": r.queue,
                "service_level_seconds": spec.threshold(r.queue or ""),
                **_figures(r.figures),
            }
            for r in report.queues
        ],
        "agents": [{"agent": r.agent, **_figures(r.figures)} for r in report.agents],
        "total": _figures(report.total.figures),
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"


def _rows(report: Report) -> list[Row]:
    return [*report.intervals, *report.queues, *report.agents, report.total]


def to_csv(report: Report) -> str:
    """One table: every row with its scope, so a spreadsheet filter splits them apart."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*ROW_KEYS, *FIGURE_FIELDS])
    for row in _rows(report):
        keys = [row.scope, _iso(row.start), _iso(row.end), row.queue, row.agent]
        values = [_number(getattr(row.figures, name)) for name in FIGURE_FIELDS]
        writer.writerow(["" if v is None else v for v in (*keys, *values)])
    return out.getvalue()


# Text.


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def hours(value: float | None) -> str:
    """h:mm:ss, for agent time."""
    if value is None:
        return "-"
    whole = round(value)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


Column = tuple[str, Callable[[Row], str]]


def _f(get: Callable[[Figures], object]) -> Callable[[Row], str]:
    return lambda row: str(get(row.figures))


CALL_COLUMNS: list[Column] = [
    ("Offered", _f(lambda f: f.offered)),
    ("Answered", _f(lambda f: f.answered)),
    ("Aband", _f(lambda f: f.abandoned)),
    ("Short", _f(lambda f: f.short_abandoned)),
    ("SL", lambda r: percent(r.figures.service_level)),
    ("ASA", lambda r: seconds(r.figures.asa_seconds)),
    ("Talk", lambda r: seconds(r.figures.avg_talk_seconds)),
    ("Wrap", lambda r: seconds(r.figures.avg_wrapup_seconds)),
    ("AHT", lambda r: seconds(r.figures.aht_seconds)),
    ("Answer%", lambda r: percent(r.figures.answer_rate)),
    ("Aband%", lambda r: percent(r.figures.abandon_rate)),
    ("CB made/ok", lambda r: f"{r.figures.callbacks_made}/{r.figures.callbacks_succeeded}"),
    ("Survey", lambda r: _score(r.figures.survey_average)),
    ("Dissat%", lambda r: percent(r.figures.dissatisfied_rate)),
]
OCCUPANCY: Column = ("Occ", lambda r: percent(r.figures.occupancy))
AGENT_COLUMNS: list[Column] = [
    ("Answered", _f(lambda f: f.answered)),
    ("ASA", lambda r: seconds(r.figures.asa_seconds)),
    ("Talk", lambda r: seconds(r.figures.avg_talk_seconds)),
    ("Wrap", lambda r: seconds(r.figures.avg_wrapup_seconds)),
    ("AHT", lambda r: seconds(r.figures.aht_seconds)),
    ("Logged in", lambda r: hours(r.figures.logged_in_seconds)),
    ("On call", lambda r: hours(r.figures.on_call_seconds)),
    ("Wrap-up", lambda r: hours(r.figures.wrapup_state_seconds)),
    OCCUPANCY,
    ("CB made/ok", lambda r: f"{r.figures.callbacks_made}/{r.figures.callbacks_succeeded}"),
    ("Survey", lambda r: _score(r.figures.survey_average)),
    ("Dissat%", lambda r: percent(r.figures.dissatisfied_rate)),
]


def table(
    title: str, label: Callable[[Row], str], columns: Sequence[Column], rows: Sequence[Row]
) -> str:
    """A fixed-width table: the label column left-aligned, figures right-aligned."""
    header = [title, *(name for name, _ in columns)]
    body = [[label(row), *(cell(row) for _, cell in columns)] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = []
    for line in [header, *body]:
        cells = [line[0].ljust(widths[0])]
        cells += [text.rjust(width) for text, width in zip(line[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _interval_label(rows: Sequence[Row]) -> Callable[[Row], str]:
    """ "09:00-09:30" within one day, with the date in front over several."""
    days = {row.start.date() for row in rows if row.start is not None}
    form = "%H:%M" if len(days) <= 1 else "%Y-%m-%d %H:%M"

    def label(row: Row) -> str:
        assert row.start is not None and row.end is not None
        return f"{row.start:{form}}-{row.end:%H:%M}"

    return label


def _describe(report: Report) -> list[str]:
    spec = report.spec
    thresholds = ", ".join(f"{q} {t:g} s" for q, t in _thresholds(report).items())
    start, end = spec.start.astimezone(spec.timezone), spec.end.astimezone(spec.timezone)
    until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    minutes = spec.interval.total_seconds() / 60
    queue = f"queue {spec.queue}" if spec.queue else "all queues"
    agent = f"agent {spec.agent}" if spec.agent else "all agents"
    return [
        f"Report {start:%Y-%m-%d %H:%M} to {until} ({spec.timezone}), "
        f"{minutes:g}-minute intervals, {queue}, {agent}",
        f"SL: answered within T ({thresholds or f'{spec.default_service_level_seconds:g} s'}) "
        f"/ (offered - short abandons); target {spec.service_level_target * 100:g}%",
        f"Short abandons waited < {spec.short_abandon_seconds:g} s: left out of SL, "
        "Answer% and Aband%.",
        "Calls count in the interval they entered a queue. AHT = talk + wrap-up. "
        "Occ = (on call + wrap-up) / logged in.",
    ]


def to_text(report: Report) -> str:
    interval_columns = [*CALL_COLUMNS, OCCUPANCY]
    parts = [
        "\n".join(_describe(report)),
        table("Interval", _interval_label(report.intervals), interval_columns, report.intervals),
        table("Queue", lambda r: r.queue or "", CALL_COLUMNS, report.queues or []),
        table("Agent", lambda r: r.agent or "", AGENT_COLUMNS, report.agents or []),
        table("Total", lambda _r: "all", interval_columns, [report.total]),
    ]
    return "\n\n".join(parts) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {"text": to_text, "csv": to_csv, "json": to_json}
