"""`acd report`: the team lead's numbers for a time range, as text, CSV, JSON or a PNG chart.

Times without an offset are the centre's local time, not UTC as in `acd calls`: a report is
asked for by the centre's day ("2025-03-03T09:00"), and intervals are aligned to it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from acd.cli.common import (
    CliError,
    Subcommands,
    add_command,
    config_of,
    fail,
    parse_duration,
    parse_since,
)
from acd.reports.compute import compute
from acd.reports.intervals import check_interval
from acd.reports.report import (
    DEFAULT_SERVICE_LEVEL_TARGET,
    DEFAULT_SHORT_ABANDON_SECONDS,
    ReportSpec,
)

if TYPE_CHECKING:
    from acd.reports.query import ReportData

FORMATS = ("text", "csv", "json", "png")
_DURATION = re.compile(r"^\d+(\.\d+)?[smhd]$")


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "report",
        "Service level, volumes, handle times, occupancy, callbacks and surveys "
        "per interval, queue and agent.",
        cmd_report,
    )
    p.add_argument(
        "--from",
        dest="since",
        metavar="WHEN",
        help="start: ISO time or date in the centre's time zone unless it has an offset, or a "
        "duration back like 8h, 7d (default: today's local midnight)",
    )
    p.add_argument("--to", dest="until", metavar="WHEN", help="end, excluded (default: now)")
    p.add_argument("--queue", metavar="Q", help="only this queue")
    p.add_argument("--agent", metavar="N", help="only calls and states of this agent")
    p.add_argument(
        "--interval",
        default="30m",
        help="interval length that divides a day: 15m, 30m, 1h, 1d (default 30m)",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument(
        "--output", "-o", metavar="FILE", help="write here instead of stdout (needed for png)"
    )
    p.add_argument(
        "--short-abandon",
        type=float,
        default=DEFAULT_SHORT_ABANDON_SECONDS,
        metavar="S",
        help="callers who hang up within S seconds are short abandons, left out of service "
        f"level and the rates (default {DEFAULT_SHORT_ABANDON_SECONDS:g})",
    )
    p.add_argument(
        "--target",
        type=float,
        default=DEFAULT_SERVICE_LEVEL_TARGET * 100,
        metavar="PERCENT",
        help="service level target for the chart and text "
        f"(default {DEFAULT_SERVICE_LEVEL_TARGET * 100:g})",
    )


def when(text: str, option: str, zone: tzinfo, now: datetime) -> datetime:
    """An ISO time (local to `zone` without an offset) or a duration back from `now`."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return parse_since(text, now)
        except CliError:
            raise CliError(
                f"{option} {text!r}: use an ISO time or a duration like 8h, 7d"
            ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def duration(text: str) -> timedelta:
    """`30m`, `1h`, `1d` as a timedelta (`parse_duration`'s forms, with a unit)."""
    seconds = parse_duration(text) if _DURATION.match(text) else None
    if seconds is None:
        raise CliError(f"--interval {text!r}: use a duration like 15m, 30m, 1h, 1d")
    return timedelta(seconds=seconds)


def cmd_report(args: argparse.Namespace, now: datetime | None = None) -> int:
    from acd.settings import Paths

    now = now or datetime.now(tz=UTC)
    config = config_of(args)
    zone = ZoneInfo(config.centre.timezone)
    fmt = "json" if args.json else args.format
    if fmt == "png" and not args.output:
        return fail("--format png needs --output FILE", 2)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    start = when(args.since, "--from", zone, now) if args.since else midnight
    end = when(args.until, "--to", zone, now) if args.until else now
    if end <= start:
        return fail(f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})", 2)
    interval = duration(args.interval)
    try:
        check_interval(interval)
    except ValueError as error:
        return fail(str(error), 2)
    if args.short_abandon < 0 or not 0 < args.target <= 100:
        return fail("--short-abandon must be >= 0 and --target in (0, 100]", 2)
    spec = ReportSpec(
        start=start,
        end=end,
        timezone=zone,
        interval=interval,
        as_of=now,
        short_abandon_seconds=args.short_abandon,
        service_level_seconds={q.name: q.service_level_seconds for q in config.queues},
        service_level_target=args.target / 100,
        queue=args.queue,
        agent=args.agent,
    )
    url = Paths.resolve(config).database_url
    data = asyncio.run(_load(url, start, end, args.queue, args.agent))
    report = compute(data, spec)
    if fmt == "png":
        from acd.reports.charts import render_png

        Path(args.output).write_bytes(render_png(report))
        print(f"wrote {args.output}")
        return 0
    from acd.reports.render import FORMATS as RENDERERS

    text = RENDERERS[fmt](report)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


async def _load(
    url: str, start: datetime, end: datetime, queue: str | None, agent: str | None
) -> ReportData:
    from acd.records.store import Records
    from acd.reports.query import load

    async with Records(url) as records:
        return await load(records, start, end, queue=queue, agent=agent)
