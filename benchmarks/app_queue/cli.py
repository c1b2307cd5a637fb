"""The command: the measurements asked for, in order, then the summary (and its JSON).

The help text is the package's docstring.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from acd.staffing.erlang import erlang_c
from benchmarks import app_queue, livelab
from benchmarks.app_queue.capacity import CapacityResult, capacity
from benchmarks.app_queue.erlang import ERLANG, ErlangRun, erlang, print_erlang
from benchmarks.app_queue.lab import (
    ROUTES,
    Lab,
)
from benchmarks.app_queue.latency import Latency, latency
from benchmarks.app_queue.stats import median, ratio


def report(
    lat: dict[str, Latency] | None,
    cap: dict[tuple[str, bool], list[CapacityResult]] | None,
    erl: dict[str, ErlangRun] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print("\n== summary (medians over runs; ratio = engine / app_queue) ==")
    if lat:
        print(
            f"{'offer latency':28} {'app_queue p50/p99 ms':>22} {'engine p50/p99 ms':>20} "
            f"{'ratio p50':>9} {'ratio p99':>9}"
        )
        for kind, label in (("idle", "(a) agent idle"), ("next", "(b) agent frees")):
            a, e = lat[kind].summary("app_queue"), lat[kind].summary("engine")
            print(
                f"{label:28} {a[0]:10.1f} / {a[1]:7.1f}   {e[0]:8.1f} / {e[1]:7.1f}   "
                f"{ratio(e[0], a[0]):>9} {ratio(e[1], a[1]):>9}"
            )
            out[f"latency_{kind}"] = {"app_queue": a, "engine": e}
    if cap:
        print(f"{'capacity':28} {'app_queue':>22} {'engine':>20}")
        for recording in (False, True):
            rows = {}
            for route in ROUTES:
                runs = cap.get((route, recording), [])
                rows[route] = (
                    median([r.best_rate for r in runs]),
                    median([r.peak_concurrent for r in runs]),
                    median([r.engine_cpu_ms_per_call for r in runs]),
                    median([r.asterisk_cpu_ms_per_call for r in runs]),
                    [r.limited_by for r in runs],
                )
            c, d = rows["app_queue"], rows["engine"]
            tag = "on" if recording else "off"
            print(
                f"{'clean calls/s, rec ' + tag:28} {c[0]:22.1f} {d[0]:20.1f}   {ratio(d[0], c[0])}"
            )
            print(f"{'  peak concurrent calls':28} {c[1]:22.0f} {d[1]:20.0f}")
            print(f"{'  Asterisk CPU ms/call':28} {c[3]:22.1f} {d[3]:20.1f}   {ratio(d[3], c[3])}")
            print(f"{'  engine CPU ms/call':28} {'-':>22} {d[2]:20.1f}")
            print(f"{'  ramp ended by':28} app_queue: {'; '.join(c[4])}")
            print(f"{'':28} engine: {'; '.join(d[4])}")
            out[f"capacity_rec_{tag}"] = rows
    if erl:
        theory = erlang_c(ERLANG["rate"], 1, ERLANG["aht"], int(ERLANG["agents"]), 1.0)
        print(
            f"Erlang C: SL {theory.service_level:.1%}, wait probability "
            f"{theory.wait_probability:.1%}"
        )
        for route in ROUTES:
            print_erlang(route, erl[route])
        out["erlang"] = {route: asdict(run) for route, run in erl.items()}
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.app_queue",
        description=app_queue.__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="a reduced run for a smoke check")
    p.add_argument("--only", default="latency,capacity,erlang", help="which measurements")
    p.add_argument("--repeats", type=int, help="runs per latency measurement (default 3)")
    p.add_argument("--capacity-repeats", type=int, help="ramps per system (default 2)")
    p.add_argument("--root", type=Path, default=livelab.DEFAULT_ROOT)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench-appqueue"))
    p.add_argument("--json", type=Path, help="also write the summary here")
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    only = set(args.only.split(","))
    root = livelab.prepare_root(args.root)
    lab = Lab(root, args.workdir)
    repeats = args.repeats or (1 if args.quick else 3)
    cap_repeats = args.capacity_repeats or (1 if args.quick else 2)
    began = time.monotonic()
    lat = cap = erl = None
    try:
        if "latency" in only:
            lat = await latency(lab, repeats, args.quick)
        if "capacity" in only:
            cap = await capacity(lab, cap_repeats, args.quick)
        if "erlang" in only:
            erl = await erlang(lab, args.quick)
    finally:
        await asyncio.to_thread(livelab.asterisk_down, root)
        await asyncio.to_thread(livelab.clear_recordings, root)
    summary = report(lat, cap, erl)
    print(f"\n(whole run {(time.monotonic() - began) / 60:.1f} min; traces in {args.workdir})")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return 0


async def interruptible(args: argparse.Namespace) -> int:
    """SIGTERM unwinds like Ctrl-C, so the lab's Asterisk, engine and phones are stopped."""
    task = asyncio.ensure_future(run(args))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    return await task


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(interruptible(parse_args(argv)))
