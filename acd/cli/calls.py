"""`acd calls`, `acd callbacks` and `acd messages`: what callers did, asked for and left,
read from the records database (the engine need not run). `acd callbacks add` schedules a
callback the same way the IVR does."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from acd.cli.common import (
    Subcommands,
    add_command,
    config_of,
    database_url,
    fail,
    parse_since,
    show,
)


def register(sub: Subcommands) -> None:
    p = add_command(sub, "calls", "Recent call detail records.", cmd_calls)
    p.add_argument("--since", help="ISO time, or a duration like 30m, 2h, 1d")
    p.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add_command(
        sub, "callbacks", "Callback requests (from the IVR and after hours).", cmd_callbacks
    )
    p.add_argument("--status", help="only this status, e.g. pending")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "add",
        nargs="?",
        metavar="add NUMBER",
        help="`acd callbacks add NUMBER`: schedule a callback (a revisit by default)",
    )
    p.add_argument("number", nargs="?", help=argparse.SUPPRESS)
    p.add_argument("--kind", default="revisit", choices=["revisit", "callback"])
    p.add_argument("--queue", default=None, help="queue whose agents call (default: the first)")
    p.add_argument("--hotline", default=None, help="whose calendar (default: the first)")
    p.add_argument(
        "--within-working-days",
        type=int,
        default=1,
        help="due by the close of business this many working days on (default 1)",
    )
    p.add_argument("--call", default="", help="the call it follows up, for the records")

    p = add_command(sub, "messages", "Messages callers left.", cmd_messages)
    p.add_argument("--since", help="ISO time, or a duration like 30m, 2h, 1d")
    p.add_argument("--json", action="store_true", help="print JSON")


def cmd_calls(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    url = database_url(args)
    since = parse_since(args.since) if args.since else None

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.recent_calls(since=since, limit=args.limit)

    rows = asyncio.run(read())
    lines = [
        f"{r['entered_at']}  {r['caller']:<16} {r['queue']:<10} agent {r['agent'] or '-':<6} "
        f"wait {r['wait_seconds'] if r['wait_seconds'] is not None else '-'}s "
        f"talk {r['talk_seconds'] if r['talk_seconds'] is not None else '-'}s "
        f"{r['disposition']} ({r['hangup_side'] or '-'})"
        for r in rows
    ]
    show(rows, args.json, "\n".join(lines) or "no calls")
    return 0


def cmd_callbacks(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    if args.add is not None:
        return add_callback(args)
    url = database_url(args)

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.callbacks(status=args.status)

    rows = asyncio.run(read())
    lines = [
        f"{r['requested_at']}  {r['caller']:<16} {r['kind']:<12} {r['queue']:<10} "
        f"due {r['due_at']}  {r['status']}"
        for r in rows
    ]
    show(rows, args.json, "\n".join(lines) or "no callbacks")
    return 0


def add_callback(args: argparse.Namespace) -> int:
    """`acd callbacks add NUMBER`: `add` is an optional positional of `acd callbacks` (the
    listing takes none), so its usage is checked here rather than by argparse."""
    from acd.dialer import add_callback as schedule
    from acd.records.migrate import upgrade_async
    from acd.settings import Paths

    if args.add != "add" or not args.number:
        return fail("usage: acd callbacks add NUMBER [--kind ...]", 2)
    if not args.number.lstrip("+").isdigit():
        return fail(f"{args.number!r} is not a phone number", 2)
    config = config_of(args)
    queue = args.queue or config.queues[0].name
    hotline = args.hotline or config.hotlines[0].name
    try:
        config.queue(queue)
        config.hotline(hotline)
    except KeyError as exc:
        return fail(f"unknown queue or hotline {exc}", 2)
    url = Paths.resolve(config).database_url
    asyncio.run(upgrade_async(url))
    row = asyncio.run(
        schedule(
            url,
            config,
            number=args.number,
            queue=queue,
            hotline=hotline,
            kind=args.kind,
            within_working_days=args.within_working_days,
            now=datetime.now(UTC),
            call_id=args.call,
        )
    )
    shown = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
    show(shown, args.json, f"callback {shown['id']} for {args.number} due {shown['due_at']}")
    return 0


def cmd_messages(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    url = database_url(args)
    since = parse_since(args.since) if args.since else None

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.messages(since=since)

    rows = asyncio.run(read())
    lines = [f"{r['created_at']}  {r['caller']:<16} {r['seconds']}s  {r['path']}" for r in rows]
    show(rows, args.json, "\n".join(lines) or "no messages")
    return 0
