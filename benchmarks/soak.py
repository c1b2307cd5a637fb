"""A steady moderate load for a long while: does the engine's memory or descriptor count creep?

    .venv/bin/python -m benchmarks.soak [--minutes 20] [--rate 0.5] [--agents 6]
    .venv/bin/python -m benchmarks.soak --config DIR --engine-pid PID --agents 1001,1002 \\
        [--sip 127.0.0.1:5060] [--hotline 100]

Without `--config` it sets up a private lab of its own: a copy of the lab root at
`/tmp/bench-soak-root` (or `--root`), Asterisk on SIP 5260 / AMI 5238 / FastAGI 4773 / web
8280, and its own engine; it stops them at the end. With `--config` it loads a lab that is
already running (its engine too, whose process id `--engine-pid` names): the listed agents'
phones are played by the soak (they must be logged in and not registered elsewhere), with
the passwords from that config's secrets file.

Callers dial the hotline, press 1 in the IVR (the general queue), wait, talk to an agent who
answers after 300 ms and hangs up after 3 s, and hear the survey to its timeout: every part
of a call that holds engine state. Every 30 s it prints the engine's resident memory, open
descriptors and CPU seconds. The first `--warmup` minutes (default 3) fill caches and are
left out; the verdict compares the median of the last five samples with the median of the
first five after the warm-up. It fails (exit 1) when memory grew by more than 10% + 8 MiB,
when open descriptors grew by more than 10, when the engine died, or when calls stopped
being answered. Not a test: the suite never runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from acd.config import load_config
from benchmarks import livelab
from benchmarks.sipp_load.phones import AgentBank, run_callers
from benchmarks.sipp_load.scenarios import PCAP_DIR, Talk
from benchmarks.sipp_load.traces import agent_legs, caller_legs

SAMPLE_SECONDS = 30.0
RSS_GROWTH = 0.10
RSS_SLACK = 8 * 1024 * 1024
FD_GROWTH = 10
WINDOW = 5


@dataclass(frozen=True)
class Point:
    minute: float
    rss_mib: float
    fds: int
    cpu_s: float
    answered: int


def verdict(points: list[Point], warmup_minutes: float) -> tuple[bool, str]:
    """Compare the last samples with the first ones after the warm-up."""
    settled = [p for p in points if p.minute >= warmup_minutes]
    if len(settled) < 2 * WINDOW:
        return False, f"too few samples after the warm-up ({len(settled)} < {2 * WINDOW})"
    early, late = settled[:WINDOW], settled[-WINDOW:]
    rss0 = statistics.median(p.rss_mib for p in early)
    rss1 = statistics.median(p.rss_mib for p in late)
    fd0 = statistics.median(p.fds for p in early)
    fd1 = statistics.median(p.fds for p in late)
    limit = rss0 * (1 + RSS_GROWTH) + RSS_SLACK / 2**20
    minutes = late[-1].minute - early[0].minute
    slope = (late[-1].rss_mib - early[0].rss_mib) / minutes * 60 if minutes else 0.0
    text = (
        f"RSS {rss0:.1f} -> {rss1:.1f} MiB (limit {limit:.1f}; {slope:+.1f} MiB/h end to end), "
        f"open files {fd0:.0f} -> {fd1:.0f} (limit {fd0 + FD_GROWTH:.0f})"
    )
    return rss1 <= limit and fd1 <= fd0 + FD_GROWTH, text


async def soak(
    pid: int,
    target: str,
    hotline: str,
    bank: AgentBank,
    workdir: Path,
    minutes: float,
    rate: float,
) -> list[Point]:
    """Place the calls and sample the engine until the last caller is done."""
    calls = max(1, int(minutes * 60 * rate))
    load = asyncio.create_task(
        run_callers(
            workdir / "callers",
            target,
            hotline,
            "1390[call_number]",
            calls=calls,
            rate=rate,
            max_ms=90_000,
            timeout_s=minutes * 60 + 180,
            dtmf=PCAP_DIR / "dtmf_2833_1.pcap",
        )
    )
    points: list[Point] = []
    began = time.monotonic()
    print(f"{'minute':>7} {'RSS MiB':>8} {'open files':>10} {'CPU s':>8} {'answered':>9}")
    try:
        while True:
            now = livelab.sample(pid)
            answered = sum(1 for leg in agent_legs(bank.trace) if leg.answered_at is not None)
            point = Point(
                (time.monotonic() - began) / 60,
                now.rss_bytes / 2**20,
                now.open_files,
                now.cpu_seconds,
                answered,
            )
            points.append(point)
            print(
                f"{point.minute:7.1f} {point.rss_mib:8.1f} {point.fds:10d} "
                f"{point.cpu_s:8.1f} {point.answered:9d}",
                flush=True,
            )
            if load.done():
                break
            await asyncio.wait({load}, timeout=SAMPLE_SECONDS)
    finally:
        if not load.done():
            load.cancel()
    return points


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=20.0, help="load time (default 20)")
    p.add_argument("--rate", type=float, default=0.5, help="calls a second (default 0.5)")
    p.add_argument("--warmup", type=float, default=3.0, help="minutes left out (default 3)")
    p.add_argument(
        "--agents", default="6", help="private lab: how many; --config: numbers, comma-separated"
    )
    p.add_argument("--config", type=Path, help="dialplans of a running lab (else a private one)")
    p.add_argument("--engine-pid", type=int, help="with --config: the running engine's pid")
    p.add_argument("--sip", help="with --config: Asterisk's SIP host:port (default: the config's)")
    p.add_argument("--hotline", default=livelab.HOTLINE_EXTEN, help="extension to dial")
    p.add_argument("--root", type=Path, default=Path("/tmp/bench-soak-root"))
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench-soak"))
    args = p.parse_args(argv)
    if args.config and not args.engine_pid:
        p.error("--config needs --engine-pid")
    return args


async def run(args: argparse.Namespace) -> int:
    work: Path = args.workdir
    print(f"soak: {args.minutes:g} min at {args.rate:g} calls/s; sampling every 30 s", flush=True)
    engine: livelab.Engine | None = None
    root: Path | None = None
    if args.config:
        config = load_config(args.config)
        agents = [a.strip() for a in args.agents.split(",") if a.strip()]
        passwords = livelab.agent_passwords(args.config, agents)
        target = args.sip or f"127.0.0.1:{config.sip.port}"
        pid = args.engine_pid
    else:
        root = livelab.prepare_root(args.root)
        ports = livelab.SOAK_PORTS
        agents = livelab.agent_numbers(int(args.agents))
        data = livelab.config_data(work, root, ports, agents, recording=True, survey=True)
        conf = livelab.write_config(work / "dialplans", data)
        extras = livelab.asterisk_extras(agents, ports, ring_timeout=15, wrapup=2)
        await asyncio.to_thread(livelab.asterisk_up, root, conf, extras)
        passwords = livelab.agent_passwords(conf, agents)
        target = ports.target
        engine = livelab.Engine(conf, work / "soak.sqlite", work / "engine.log")
    bank = AgentBank(work / "agents", target, passwords, 300, Talk(3000))
    status_ok = True
    try:
        # Phones first, so a fresh engine finds every agent's phone free.
        await bank.start()
        if engine is not None:
            await asyncio.to_thread(engine.start, len(agents))
            pid = engine.pid
        points = await soak(pid, target, args.hotline, bank, work, args.minutes, args.rate)
        await asyncio.sleep(5)  # the last survey and wrap-up
        alive = livelab.alive(pid)
        if engine is not None:
            try:
                status = await asyncio.to_thread(engine.cli, "status")
                stuck = [a["number"] for a in status["agents"] if a["state"] != "ready"]
                waiting = sum(len(q["waiting"]) for q in status["queues"])
                status_ok = not stuck and not waiting
                print(f"after the soak: agents not ready {stuck}, callers waiting {waiting}")
            except RuntimeError as exc:
                status_ok = False
                print(f"acd status after the soak failed: {exc}")
    finally:
        await bank.stop()
        if engine is not None:
            engine.stop()
        if root is not None:
            await asyncio.to_thread(livelab.asterisk_down, root)
    placed = len(caller_legs(work / "callers" / "messages.txt"))
    answered = sum(1 for leg in agent_legs(bank.trace) if leg.answered_at is not None)
    ok, text = verdict(points, args.warmup)
    print(f"calls placed {placed}, answered by an agent {answered}")
    print(text)
    ok = ok and alive and status_ok and placed > 0 and answered >= 0.98 * placed
    print("PASS" if ok else "FAIL", "(engine alive)" if alive else "(engine died)")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
