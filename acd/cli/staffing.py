"""`acd staffing`: how many agents a service level needs, for given traffic or from history.

Bad input is reported on stderr as one `acd: staffing: ...` line with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from dataclasses import asdict
from datetime import UTC, datetime
from statistics import fmean
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from acd.cli.common import (
    CliError,
    Subcommands,
    add_command,
    config_of,
    fail,
    parse_duration,
    parse_since,
    show,
)
from acd.staffing.erlang import StaffingResult, agents_needed, offered_load

if TYPE_CHECKING:
    from acd.staffing.load import OfferedCall

DEFAULT_PER = "30m"
DEFAULT_FROM = "1d"


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "staffing",
        "Agents needed for a service level (Erlang C; Erlang A with --patience), for given "
        "traffic or per interval from the call records.",
        cmd_staffing,
    )
    p.add_argument("--calls", metavar="N", help="calls offered per --per period")
    p.add_argument(
        "--per",
        default=DEFAULT_PER,
        metavar="DURATION",
        help=f"the period the calls arrive in, and the interval with --from-records: 1800, "
        f"1800s, 30m, 2h (default {DEFAULT_PER})",
    )
    p.add_argument("--aht", metavar="SECONDS", help="average handle time: talk + wrap-up (180, 3m)")
    p.add_argument(
        "--target",
        required=True,
        metavar="PCT/SECONDS",
        help="service level target: 80/20 is 80%% of calls answered within 20 s",
    )
    p.add_argument(
        "--shrinkage",
        default="0",
        metavar="PCT",
        help="share of paid time off the phones (breaks, training, absence), in %% (default 0)",
    )
    p.add_argument(
        "--patience",
        metavar="SECONDS",
        help="callers' mean patience before hanging up: uses Erlang A instead of Erlang C",
    )
    p.add_argument(
        "--max-occupancy",
        metavar="PCT",
        help="also keep agents' occupancy at or below this, in %%",
    )
    p.add_argument(
        "--from-records",
        action="store_true",
        help="derive calls and AHT per interval from the call records instead of --calls/--aht",
    )
    p.add_argument(
        "--from",
        dest="since",
        metavar="WHEN",
        help="with --from-records: start, an ISO time (naive means the centre's time zone) "
        f"or a duration back from now like 7d (default {DEFAULT_FROM})",
    )
    p.add_argument(
        "--to", dest="until", metavar="WHEN", help="with --from-records: end (default now)"
    )
    p.add_argument("--queue", metavar="Q", help="with --from-records: only this queue")
    p.add_argument("--json", action="store_true", help="print JSON")


def cmd_staffing(args: argparse.Namespace) -> int:
    try:
        if args.from_records:
            return _from_records(args)
        return _single(args)
    except CliError as error:
        return fail(f"staffing: {error}")


def _single(args: argparse.Namespace) -> int:
    for option, value in (("--from", args.since), ("--to", args.until), ("--queue", args.queue)):
        if value is not None:
            raise CliError(f"{option} needs --from-records")
    if args.calls is None or args.aht is None:
        raise CliError("give --calls and --aht, or --from-records")
    calls = _number(args.calls, "--calls")
    period = _duration(args.per, "--per", positive=True)
    aht = _duration(args.aht, "--aht", positive=True)
    level, seconds = parse_target(args.target)
    plan = _plan(args, calls, period, aht, level, seconds)
    data = _plan_dict(calls, period, aht, level, seconds, args, plan)
    show(data, args.json, _plan_text(data))
    return 0


def _from_records(args: argparse.Namespace) -> int:
    from acd.settings import Paths
    from acd.staffing.load import interval_bounds, interval_loads

    if args.calls is not None or args.aht is not None:
        raise CliError("--calls and --aht come from the records with --from-records")
    level, seconds = parse_target(args.target)
    period = _duration(args.per, "--per", positive=True)
    config = config_of(args)
    try:
        zone = ZoneInfo(config.centre.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"unknown centre.timezone {config.centre.timezone!r}") from None
    queues = {q.name: q for q in config.queues}
    if args.queue is not None and args.queue not in queues:
        raise CliError(f"no queue {args.queue!r} in the config (queues: {', '.join(queues)})")
    now = datetime.now(UTC)
    since = _when(args.since or DEFAULT_FROM, "--from", zone, now)
    until = _when(args.until, "--to", zone, now) if args.until else now
    try:
        bounds = interval_bounds(since, until, period, zone)
    except ValueError as error:
        raise CliError(str(error)) from None
    chosen = [queues[args.queue]] if args.queue else list(queues.values())
    default_aht = fmean(q.initial_handle_seconds for q in chosen) if chosen else 180.0
    calls = asyncio.run(_offered(Paths.resolve(config).database_url, since, until, args.queue))
    loads = interval_loads(
        calls, bounds, {q.name: q.wrapup_seconds for q in config.queues}, default_aht
    )
    rows = []
    for load in loads:
        workload = load.calls if load.aht > 0 else 0
        plan = _plan(args, workload, load.seconds, max(load.aht, 1.0), level, seconds)
        row = {"start": load.start.isoformat(), "end": load.end.isoformat()}
        row |= _plan_dict(load.calls, load.seconds, load.aht, level, seconds, args, plan)
        rows.append(row | {"answered": load.answered, "aht_source": load.aht_source})
    show(rows, args.json, _table(rows, config.centre.timezone, args.queue))
    return 0


def parse_target(text: str) -> tuple[float, float]:
    """ "80/20" -> (0.8, 20.0): a share of calls and the seconds they are answered within."""
    percent, slash, within = text.partition("/")
    if not slash:
        raise CliError(f"--target {text!r}: use PERCENT/SECONDS, like 80/20")
    level = _number(percent.rstrip("%"), "--target percentage")
    if not 0 < level < 100:
        raise CliError(
            f"--target {text!r}: the percentage must be above 0 and below 100 "
            "(no staffing answers every call in time)"
        )
    seconds = _duration(within, "--target seconds")
    return level / 100, seconds


def _plan(
    args: argparse.Namespace,
    calls: float,
    period: float,
    aht: float,
    level: float,
    seconds: float,
) -> StaffingResult:
    shrinkage = _percent(args.shrinkage, "--shrinkage", below_100=True)
    max_occupancy = (
        None if args.max_occupancy is None else _percent(args.max_occupancy, "--max-occupancy")
    )
    if max_occupancy == 0:
        raise CliError("--max-occupancy must be above 0")
    patience = (
        None if args.patience is None else _duration(args.patience, "--patience", positive=True)
    )
    try:
        return agents_needed(
            calls,
            period,
            aht,
            level,
            seconds,
            shrinkage=shrinkage,
            patience=patience,
            max_occupancy=max_occupancy,
        )
    except ValueError as error:
        raise CliError(str(error)) from None


def _plan_dict(
    calls: float,
    period: float,
    aht: float,
    level: float,
    seconds: float,
    args: argparse.Namespace,
    plan: StaffingResult,
) -> dict[str, Any]:
    result = asdict(plan.erlang)
    if math.isinf(result["asa"]):
        result["asa"] = None  # JSON has no infinity: never answered
    return {
        "calls": calls,
        "period_seconds": period,
        "aht": aht,
        "offered_load": offered_load(calls, period, aht),
        "target_level": level,
        "target_seconds": seconds,
        "shrinkage": plan.shrinkage,
        "patience": None if args.patience is None else _duration(args.patience, "--patience"),
        "model": "erlang-c" if args.patience is None else "erlang-a",
        **result,
        "scheduled": plan.scheduled,
    }


def _plan_text(d: dict[str, Any]) -> str:
    lines = [
        f"offered load     {d['offered_load']:.2f} Erlangs ({_g(d['calls'])} calls per "
        f"{_g(d['period_seconds'])} s, AHT {_g(d['aht'])} s)",
        f"agents needed    {d['agents']} on the phones ({_model(d)})",
        f"agents scheduled {d['scheduled']} (shrinkage {_pct(d['shrinkage'], 0)})",
        f"service level    {_pct(d['service_level'])} answered within {_g(d['target_seconds'])} s "
        f"(target {_pct(d['target_level'], 0)})",
        f"wait probability {_pct(d['wait_probability'])}",
        f"ASA              {_secs(d['asa'])}",
        f"occupancy        {_pct(d['occupancy'])}",
    ]
    if d["abandon_rate"] is not None:
        lines.append(f"abandon rate     {_pct(d['abandon_rate'])}")
    return "\n".join(lines)


def _table(rows: list[dict[str, Any]], timezone: str, queue: str | None) -> str:
    if not rows:
        return "no intervals"
    abandon = rows[0]["abandon_rate"] is not None
    head = (
        f"{'interval (' + timezone + ')':<24} {'calls':>6} {'AHT s':>6} {'Erl':>7} "
        f"{'agents':>6} {'sched':>6} {'SL':>7} {'wait':>7} {'ASA s':>6} {'occ':>7}"
        + (f" {'aband':>7}" if abandon else "")
    )
    lines = [
        f"{_model(rows[0])}, target {_pct(rows[0]['target_level'], 0)} within "
        f"{_g(rows[0]['target_seconds'])} s, shrinkage {_pct(rows[0]['shrinkage'], 0)}, "
        f"queue {queue or 'all'}",
        head,
    ]
    for r in rows:
        start, end = datetime.fromisoformat(r["start"]), datetime.fromisoformat(r["end"])
        span = f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"
        aht = f"{r['aht']:.0f}" + ("" if r["aht_source"] == "interval" else "*")
        asa = "-" if r["asa"] is None else f"{r['asa']:.1f}"
        lines.append(
            f"{span:<24} {r['calls']:>6} {aht:>6} {r['offered_load']:>7.2f} {r['agents']:>6} "
            f"{r['scheduled']:>6} {_pct(r['service_level']):>7} "
            f"{_pct(r['wait_probability']):>7} {asa:>6} {_pct(r['occupancy']):>7}"
            + (f" {_pct(r['abandon_rate']):>7}" if abandon else "")
        )
    if any(r["aht_source"] != "interval" for r in rows):
        lines.append(
            "* no answered call in the interval: AHT of the whole range (or the queues' "
            "initial_handle_seconds if none)"
        )
    peak = max(rows, key=lambda r: r["scheduled"])
    lines.append(f"peak: {peak['scheduled']} scheduled from {peak['start']}")
    return "\n".join(lines)


def _when(text: str, option: str, zone: ZoneInfo, now: datetime) -> datetime:
    """An ISO time (naive ones in the centre's zone: intervals are the centre's) or a
    duration back from now."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        if naive.tzinfo is None:
            return naive.replace(tzinfo=zone)
    try:
        return parse_since(text, now)
    except CliError:
        raise CliError(
            f"{option} {text!r}: use an ISO time or a duration back from now like 7d"
        ) from None


def _number(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"{option} {text!r}: not a number") from None
    if not math.isfinite(value) or value < 0:
        raise CliError(f"{option} must be 0 or more, not {text}")
    return value


def _duration(text: str, option: str, positive: bool = False) -> float:
    seconds = parse_duration(text.strip())
    if seconds is None:
        raise CliError(f"{option} {text!r}: use seconds or a duration like 20s, 30m, 2h")
    if positive and seconds <= 0:
        raise CliError(f"{option} must be above 0 seconds")
    return seconds


def _percent(text: str, option: str, below_100: bool = False) -> float:
    value = _number(text.rstrip("%"), option)
    if value > 100 or (below_100 and value >= 100):
        raise CliError(f"{option} must be below 100%, not {text}")
    return value / 100


def _model(d: dict[str, Any]) -> str:
    if d["patience"] is None:
        return "Erlang C"
    return f"Erlang A, mean patience {_g(d['patience'])} s"


def _pct(share: float, decimals: int = 2) -> str:
    return f"{share * 100:.{decimals}f}%"


def _secs(value: float | None) -> str:
    return "never answered" if value is None else f"{value:.1f} s"


def _g(value: float) -> str:
    return f"{value:g}"


async def _offered(
    url: str, since: datetime, until: datetime, queue: str | None
) -> list[OfferedCall]:
    from acd.records.store import Records
    from acd.staffing.load import offered_calls

    async with Records(url) as records:
        return await offered_calls(records, since, until, queue)
