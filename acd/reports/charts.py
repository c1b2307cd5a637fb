"""The report as a wall chart: service level per interval against the target, and the volume.

Drawn on a bare `Figure` with the Agg canvas, not through pyplot: no global figure state, no
display needed, the same pixels on a server as on a laptop. Labels are English because the
default font (DejaVu Sans) has no CJK glyphs, and a chart of empty boxes helps nobody.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from acd.reports.report import Report, Row

MET = "#2e7d32"  # target met: green
MISSED = "#c62828"  # target missed: red
TARGET = "#212121"
OFFERED = "#90a4ae"
ANSWERED = "#1565c0"
ABANDONED = "#ef6c00"
#: At most this many labelled ticks on the time axis; more would overlap.
MAX_TICKS = 16


def _labels(rows: tuple[Row, ...]) -> list[str]:
    """Start times ("09:00"), with the end too when there is room ("09:00-09:30")."""
    days = {row.start.date() for row in rows if row.start is not None}
    form = "%H:%M" if len(days) <= 1 else "%m-%d %H:%M"
    labels = []
    for row in rows:
        assert row.start is not None and row.end is not None
        label = f"{row.start:{form}}"
        labels.append(f"{label}-{row.end:%H:%M}" if len(rows) <= 8 else label)
    return labels


def _ticks(axes: Axes, labels: list[str]) -> None:
    step = max(1, -(-len(labels) // MAX_TICKS))
    positions = list(range(0, len(labels), step))
    axes.set_xticks(positions, [labels[i] for i in positions])
    axes.tick_params(axis="x", labelrotation=30 if len(labels) > 8 else 0)


def _service_level(axes: Axes, report: Report, labels: list[str]) -> None:
    target = report.spec.service_level_target * 100
    values = [row.figures.service_level for row in report.intervals]
    xs = range(len(values))
    heights = [0.0 if v is None else v * 100 for v in values]
    colours = [MET if h >= target else MISSED for h in heights]
    axes.bar(xs, heights, color=colours, width=0.7, zorder=2)
    axes.axhline(target, color=TARGET, linestyle="--", linewidth=3, zorder=3)
    axes.text(
        len(values) - 0.5,
        target + 1.5,
        f"target {target:g}%",
        ha="right",
        va="bottom",
        fontsize=18,
        fontweight="bold",
        color=TARGET,
    )
    for x, value in zip(xs, values, strict=True):
        text = "no calls" if value is None else f"{value * 100:.0f}%"
        y = 2.0 if value is None else value * 100 + 1.5
        if len(values) <= 24:
            axes.text(x, y, text, ha="center", va="bottom", fontsize=16, fontweight="bold")
    axes.set_ylim(0, 110)
    axes.set_ylabel("Service level %", fontsize=18)
    axes.grid(axis="y", alpha=0.3, zorder=0)
    _ticks(axes, labels)


def _volume(axes: Axes, report: Report, labels: list[str]) -> None:
    width = 0.27
    series = (
        ("offered", OFFERED, -width),
        ("answered", ANSWERED, 0.0),
        ("abandoned", ABANDONED, width),
    )
    for name, colour, offset in series:
        counts = [getattr(row.figures, name) for row in report.intervals]
        xs = [i + offset for i in range(len(counts))]
        axes.bar(xs, counts, width=width, color=colour, label=name.capitalize(), zorder=2)
        if len(counts) <= 24:
            for x, count in zip(xs, counts, strict=True):
                axes.text(x, count, str(count), ha="center", va="bottom", fontsize=14)
    top = max((row.figures.offered for row in report.intervals), default=0)
    axes.set_ylim(0, max(1.0, top * 1.15))
    axes.set_ylabel("Calls", fontsize=18)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Above the plot, where no bar can hide it.
    axes.legend(fontsize=16, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False)
    axes.grid(axis="y", alpha=0.3, zorder=0)
    _ticks(axes, labels)


def _title(report: Report) -> tuple[str, str]:
    spec = report.spec
    start, end = spec.start.astimezone(spec.timezone), spec.end.astimezone(spec.timezone)
    span = f"{start:%Y-%m-%d %H:%M} - {end:%H:%M}"
    if start.date() != end.date():
        span = f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M}"
    who = f"queue {spec.queue}" if spec.queue else "all queues"
    if spec.agent:
        who += f", agent {spec.agent}"
    queues = sorted({row.queue for row in report.queues if row.queue})
    limits = ", ".join(f"{q} {spec.threshold(q):g} s" for q in queues)
    total = report.total.figures
    level = "-" if total.service_level is None else f"{total.service_level * 100:.1f}%"
    subtitle = (
        f"Answered within T ({limits or f'{spec.default_service_level_seconds:g} s'}), "
        f"short abandons (< {spec.short_abandon_seconds:g} s) left out.\nWhole range: {level}, "
        f"{total.offered} offered, {total.answered} answered, {total.abandoned} abandoned"
    )
    return f"Service level, {who}, {span} ({spec.timezone})", subtitle


def render_png(report: Report) -> bytes:
    """The chart as PNG bytes: service level on top, call volume below, per interval."""
    figure = Figure(figsize=(16, 10), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    labels = _labels(report.intervals)
    title, subtitle = _title(report)
    figure.suptitle(title, fontsize=24, fontweight="bold")
    top.set_title(subtitle, fontsize=15, loc="left")
    _service_level(top, report, labels)
    _volume(bottom, report, labels)
    for axes in (top, bottom):
        axes.tick_params(labelsize=16)
        axes.set_xlim(-0.6, max(len(labels), 1) - 0.4)
        axes.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
