"""`acd simulate`: staffing and rule what-ifs through the real routing core, with no Asterisk.

Bad input is one `acd simulate: ...` line on stderr and exit status 2, before anything runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acd.cli.common import CliError, Subcommands, add_command, parse_duration
from acd.config.models import Config
from acd.sim.model import Distribution, Model, Traffic
from acd.sim.run import Summary, simulate
from acd.sim.scenario import one_queue_config, staff, with_agents, with_queue

EXAMPLE = "acd simulate --agents 14 --calls 100 --per 30m --aht 180 --target 80/20"


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "simulate",
        "Simulate a queue through the real routing rules, without Asterisk: service level, "
        f"waits, abandonment and occupancy with confidence intervals. Example: {EXAMPLE}",
        cmd_simulate,
        False,
    )
    p.add_argument("--agents", type=int, metavar="N", help="agents holding the queue's skills")
    p.add_argument(
        "--calls",
        required=True,
        metavar="N[,N...]",
        help="calls per period; several comma-separated figures are a profile, one per "
        "consecutive period (the last one holds to the end)",
    )
    p.add_argument("--per", default="30m", metavar="DURATION", help="the period (default 30m)")
    p.add_argument(
        "--aht", required=True, metavar="SECONDS", help="average handle time: talk + wrap-up"
    )
    p.add_argument(
        "--handle",
        choices=["exponential", "fixed", "lognormal"],
        default="exponential",
        help="talk time distribution (default exponential)",
    )
    p.add_argument("--cv", type=float, default=1.0, help="lognormal std/mean (default 1)")
    p.add_argument("--target", default="80/20", metavar="P/T", help="P%% answered within T s")
    p.add_argument("--patience", metavar="SECONDS", help="callers' mean patience (exponential)")
    p.add_argument("--ring", default="0", metavar="SECONDS", help="ring time before answering")
    p.add_argument("--wrapup", metavar="SECONDS", help="wrap-up (default 0, or the queue's)")
    p.add_argument("--hours", type=float, default=8.0, help="measured hours (default 8)")
    p.add_argument("--warmup", default="30m", metavar="DURATION", help="default 30m")
    p.add_argument("--replications", type=int, default=10, help="independent runs (default 10)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--config",
        "-c",
        metavar="DIR",
        help="simulate a queue of this dialplans directory with its rules (default: one "
        "queue built from the flags)",
    )
    p.add_argument("--queue", default="general", help="the queue callers enter (with --config)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _seconds(text: str, flag: str) -> float:
    seconds = parse_duration(text)
    if seconds is None:
        raise CliError(f"{flag} {text!r}: give seconds or a duration like 90s, 30m, 2h")
    return seconds


def _target(text: str) -> tuple[float, float]:
    """ "80/20" -> (0.8, 20.0): the share to answer within the seconds."""
    percent, _, seconds = text.partition("/")
    try:
        share, within = float(percent) / 100, float(seconds)
    except ValueError:
        raise CliError(f"--target {text!r}: use PERCENT/SECONDS, like 80/20") from None
    if not 0 < share <= 1 or within < 0:
        raise CliError(f"--target {text!r}: a percentage up to 100 and seconds >= 0")
    return share, within


def _scenario(args: argparse.Namespace) -> tuple[Config, Model, float]:
    """The config to run, the model of the world, and the service-level goal."""
    from acd.config import load_config

    goal, within = _target(args.target)
    wrapup = _seconds(args.wrapup, "--wrapup") if args.wrapup is not None else None
    if args.agents is not None and args.agents < 0:
        raise CliError("--agents cannot be negative")
    if args.config is None:
        if args.agents is None:
            raise CliError("give --agents, or --config with agents of its own")
        config = one_queue_config(args.agents, wrapup or 0.0)
    else:
        config = load_config(Path(args.config))
        if args.queue not in {q.name for q in config.queues}:
            raise CliError(f"no queue {args.queue!r} in {args.config}")
        if args.agents is not None:
            config = with_agents(config, args.queue, args.agents)
        if wrapup is not None:
            config = with_queue(config, args.queue, wrapup_seconds=wrapup)
    try:
        calls = tuple(float(n) for n in args.calls.split(","))
    except ValueError:
        raise CliError(f"--calls {args.calls!r}: numbers, comma-separated") from None
    aht = _seconds(args.aht, "--aht")
    queue_wrapup = config.queue(args.queue).wrapup_seconds
    if aht <= queue_wrapup:
        raise CliError(f"--aht {aht:g} s must exceed the wrap-up ({queue_wrapup:g} s)")
    patience = _seconds(args.patience, "--patience") if args.patience is not None else None
    try:
        model = Model(
            traffic=Traffic(calls, _seconds(args.per, "--per")),
            talk=Distribution(aht - queue_wrapup, args.handle, args.cv),
            duration_seconds=args.hours * 3600,
            warmup_seconds=_seconds(args.warmup, "--warmup"),
            patience=Distribution(patience) if patience is not None else None,
            ring_seconds=_seconds(args.ring, "--ring"),
            target_seconds=within,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return config, model, goal


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        config, model, goal = _scenario(args)
        if args.replications < 1:
            raise CliError("--replications must be at least 1")
    except CliError as exc:
        print(f"acd simulate: {exc}", file=sys.stderr)
        return 2
    summary = simulate(config, args.queue, model, args.replications, args.seed)
    agents = len(staff(config, args.queue))
    aht = model.talk.mean + config.queue(args.queue).wrapup_seconds
    erlang = _erlang(model, aht, agents)
    report = _report(args, model, summary, goal, agents, aht, erlang)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else _text(report))
    return 0


def _erlang(model: Model, aht: float, agents: int) -> dict[str, Any] | None:
    """The queueing formulas for the same load, when they have one: a flat rate and some
    agents. Erlang C always (callers wait forever); Erlang A too when callers have patience.
    Infinite figures (Erlang C at or above 100% load) become None, as JSON has no infinity."""
    from acd.staffing.erlang import ErlangResult, erlang_a, erlang_c

    traffic = model.traffic
    if not isinstance(traffic, Traffic) or not traffic.flat or agents < 1:
        return None
    load = (traffic.calls[0], traffic.period_seconds, aht, agents, model.target_seconds)

    def figures(result: ErlangResult) -> dict[str, float | None]:
        values = {
            "service_level": result.service_level,
            "wait_probability": result.wait_probability,
            "asa": result.asa,
            "occupancy": result.occupancy,
            "abandon_rate": result.abandon_rate,
        }
        return {k: v if v is None or math.isfinite(v) else None for k, v in values.items()}

    found: dict[str, Any] = {"agents": agents, "c": figures(erlang_c(*load))}
    if model.patience is not None:
        found["a"] = figures(erlang_a(*load, model.patience.mean))
    return found


FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "turned_away",
    "service_level",
    "wait_probability",
    "asa",
    "abandon_rate",
    "occupancy",
)


def _report(
    args: argparse.Namespace,
    model: Model,
    summary: Summary,
    goal: float,
    agents: int,
    aht: float,
    erlang: dict[str, Any] | None,
) -> dict[str, Any]:
    traffic = model.traffic
    assert isinstance(traffic, Traffic)  # the command builds no replays
    sl = summary.service_level
    if sl.low >= goal:
        verdict = "met"
    elif sl.high < goal:
        verdict = "missed"
    else:
        verdict = "undecided"  # the interval straddles the goal (or there is only one run)
    return {
        "scenario": {
            "config": args.config,
            "queue": args.queue,
            "agents": agents,
            "calls": list(traffic.calls),
            "period_seconds": traffic.period_seconds,
            "aht_seconds": aht,
            "talk": {"mean": model.talk.mean, "shape": model.talk.shape},
            "wrapup_seconds": aht - model.talk.mean,
            "patience_seconds": model.patience.mean if model.patience else None,
            "ring_seconds": model.ring_seconds,
            "hours": model.duration_seconds / 3600,
            "warmup_seconds": model.warmup_seconds,
            "target": {"share": goal, "seconds": model.target_seconds, "verdict": verdict},
            "replications": args.replications,
            "seed": args.seed,
        },
        "method": "independent replications; 95% intervals with Student's t",
        "results": {name: getattr(summary, name).as_dict() for name in FIGURES},
        "unfinished": summary.unfinished,
        "erlang": erlang,
        "simulator": {
            "simulated_calls": summary.simulated_calls,
            "wall_seconds": summary.wall_seconds,
            "calls_per_second": summary.calls_per_second,
        },
    }


def _text(report: dict[str, Any]) -> str:
    s = report["scenario"]
    r = report["results"]
    calls = ",".join(f"{c:g}" for c in s["calls"])
    patience = f", patience {s['patience_seconds']:g} s" if s["patience_seconds"] else ""
    ring = f", ring {s['ring_seconds']:g} s" if s["ring_seconds"] else ""
    lines = [
        f"queue {s['queue']}: {s['agents']} agents, {calls} calls per {s['period_seconds']:g} s, "
        f"AHT {s['aht_seconds']:g} s ({s['talk']['shape']} talk + {s['wrapup_seconds']:g} s "
        f"wrap-up){patience}{ring}",
        f"{s['replications']} x {s['hours']:g} h after {s['warmup_seconds']:g} s warm-up, "
        f"seed {s['seed']}",
        "",
        _line("offered per run", r["offered"], _count),
        _line("answered per run", r["answered"], _count),
        _line("abandoned per run", r["abandoned"], _count),
        _line("turned away per run", r["turned_away"], _count),
        _line(f"service level {s['target']['seconds']:g} s", r["service_level"], _share)
        + f"  (goal {s['target']['share']:.0%}: {s['target']['verdict']})",
        _line("wait probability", r["wait_probability"], _share),
        _line("ASA", r["asa"], _secs),
        _line("abandon rate", r["abandon_rate"], _share),
        _line("occupancy", r["occupancy"], _share),
        "(mean ± half-width of the 95% interval over independent replications, Student's t)",
    ]
    if report["unfinished"]:
        lines.append(f"{report['unfinished']} calls still waiting when the run stopped")
    erlang = report["erlang"]
    if erlang is not None:
        ring = " (no ring time)" if s["ring_seconds"] else ""
        lines.append(_erlang_line(f"Erlang C{ring}", erlang["agents"], erlang["c"]))
        if "a" in erlang:
            lines.append(_erlang_line(f"Erlang A{ring}", erlang["agents"], erlang["a"]))
    sim = report["simulator"]
    lines.append(
        f"simulator: {sim['simulated_calls']:,} calls in {sim['wall_seconds']:.1f} s "
        f"({sim['calls_per_second']:,.0f} simulated calls per second)"
    )
    return "\n".join(lines)


def _erlang_line(name: str, agents: int, figures: dict[str, float | None]) -> str:
    def show(value: float | None, fmt: Callable[[float], str]) -> str:
        return "-" if value is None else fmt(value)

    text = (
        f"{name}: {agents} agents, service level {show(figures['service_level'], _share)}, "
        f"wait probability {show(figures['wait_probability'], _share)}, "
        f"ASA {show(figures['asa'], _secs)}, occupancy {show(figures['occupancy'], _share)}"
    )
    if figures["abandon_rate"] is not None:
        text += f", abandon rate {_share(figures['abandon_rate'])}"
    return text


def _count(value: float) -> str:
    return f"{value:,.1f}"


def _share(value: float) -> str:
    return f"{value * 100:.1f}%"


def _secs(value: float) -> str:
    return f"{value:.1f} s"


def _line(label: str, figure: dict[str, float | None], fmt: Callable[[float], str]) -> str:
    mean, half = figure["mean"], figure["half_width"]
    if mean is None:
        return f"  {label:<22} -"
    text = f"  {label:<22} {fmt(mean)}"
    if half is not None:
        text += f" ± {fmt(half).rstrip('%').removesuffix(' s')}"
    return text
