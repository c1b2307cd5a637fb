"""`acd recordings ...` and `acd reviews ...`: QA's way into the recordings.

Every action has `--help` and its own `--config`, typed after the action
(`acd recordings find -c DIR`); those that print data take `--json`. Text output shows caller
numbers masked; JSON carries both `caller` and `caller_masked`.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acd.cli.common import (
    CliError,
    Handler,
    Subcommands,
    add_command,
    add_group,
    config_of,
    database_url,
    fail,
    parse_since,
    seconds_text,
    show,
)
from acd.records.casework import QA_SCORE_MAX, QA_SCORE_MIN


def register(sub: Subcommands) -> None:
    """Add `recordings` and `reviews`, each with its actions."""

    def leaf(
        actions: Subcommands, name: str, help_text: str, func: Handler
    ) -> argparse.ArgumentParser:
        p = add_command(actions, name, help_text, func)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    recordings = add_group(sub, "recordings", "Find, export, QA-score and purge call recordings.")
    p = leaf(recordings, "find", "Recordings by agent, time span, queue or caller.", cmd_find)
    p.add_argument("--agent", metavar="N", help="the agent's work number")
    p.add_argument(
        "--from",
        dest="since",
        metavar="WHEN",
        help="started at or after: ISO time (naive means UTC) or a duration back, like 2h, 7d",
    )
    p.add_argument("--to", dest="until", metavar="WHEN", help="started before: the same forms")
    p.add_argument("--queue", metavar="Q", help="only this queue")
    p.add_argument("--caller", metavar="NUM", help="only this caller number (exact)")
    p.add_argument(
        "--flagged",
        action="store_true",
        help="only missing or truncated recordings and calls rated dissatisfied",
    )
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")

    p = leaf(
        recordings,
        "export",
        "Copy a recording out of the spool (owner-only permissions, never overwriting).",
        cmd_export,
    )
    p.add_argument("id", type=int, help="the recording's id (from `acd recordings find`)")
    p.add_argument("dest", type=Path, help="a directory, or the path of a new file")

    p = leaf(
        recordings,
        "purge",
        "Delete recordings older than the retention period; a dry run unless --yes.",
        cmd_purge,
    )
    p.add_argument(
        "--days", type=int, help="keep this many days (default: centre.recording_retention_days)"
    )
    p.add_argument("--yes", action="store_true", help="really delete (default: only list)")

    p = leaf(
        recordings,
        "check",
        "Look at every recording's file again; missing or cut-short files are marked and listed.",
        cmd_check,
    )
    p.add_argument("--from", dest="since", help="only recordings since (ISO time or 30m, 2d)")

    p = leaf(recordings, "qa", "Score a recording for quality assurance.", cmd_qa)
    p.add_argument("id", type=int, help="the recording's id")
    p.add_argument(
        "--score",
        type=int,
        required=True,
        help=f"{QA_SCORE_MIN}..{QA_SCORE_MAX} (a percentage; replaces an earlier score)",
    )
    p.add_argument("--comment", default="", help="what was good or wrong")
    p.add_argument("--reviewer", required=True, help="who scored it")

    reviews = add_group(
        sub, "reviews", "Recordings the team lead must listen to (dissatisfied ratings)."
    )
    p = leaf(reviews, "list", "Open reviews, soonest due first; overdue ones marked.", cmd_reviews)
    p.add_argument("--all", action="store_true", help="done ones too")

    p = leaf(reviews, "done", "Close a review with what was found.", cmd_review_done)
    p.add_argument("id", type=int, help="the review's id")
    p.add_argument("--note", required=True, help="what the team lead found or did")
    p.add_argument("--reviewer", help="who listened")


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_since(text)
    except CliError:
        raise CliError(
            f"{option} {text!r}: use an ISO time or a duration like 30m, 2h, 7d"
        ) from None


def _recording_line(r: dict[str, Any]) -> str:
    flags = [str(r["status"])]
    if r["dissatisfied"]:
        flags.append("DISSATISFIED")
    if r["qa_score"] is not None:
        flags.append(f"QA {r['qa_score']}")
    return (
        f"#{r['id']:<5} {r['started_at']}  agent {r['agent']:<6} {r['caller_masked']:<14} "
        f"{r['queue']:<10} {seconds_text(r['seconds'])} of {seconds_text(r['talk_seconds'])}  "
        + " ".join(flags)
    )


def cmd_find(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    since, until = _when(args.since, "--from"), _when(args.until, "--to")
    url = database_url(args)

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.find_recordings(
                agent=args.agent,
                since=since,
                until=until,
                queue=args.queue,
                caller=args.caller,
                flagged=args.flagged,
                limit=args.limit,
            )

    try:
        rows = asyncio.run(read())
    except ValueError as error:
        return fail(str(error))
    show(rows, args.json, "\n".join(_recording_line(r) for r in rows) or "no recordings")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from acd.records.store import Records
    from acd.settings import Paths
    from recordings.export import ExportError, export

    config = config_of(args)
    url = Paths.resolve(config).database_url

    async def run() -> dict[str, object]:
        async with Records(url) as records:
            return await export(
                records,
                args.id,
                args.dest,
                spool_dir=config.asterisk.spool_dir,
                spool_dir_local=config.asterisk.spool_dir_local,
            )

    try:
        done = asyncio.run(run())
    except ExportError as error:
        return fail(str(error))
    text = f"recording {done['id']} exported to {done['dest']}"
    if not done["sha256_matches"]:
        text += "\nwarning: the file changed since the call was checked (sha256 differs)"
    show(done, args.json, text)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from acd.records.store import Records
    from acd.settings import Paths
    from recordings.retention import PurgeItem, purge

    config = config_of(args)
    days = args.days if args.days is not None else config.centre.recording_retention_days
    if days < 1:
        return fail("--days must be at least 1")

    async def run() -> list[PurgeItem]:
        async with Records(Paths.resolve(config).database_url) as records:
            return await purge(
                records,
                config.asterisk.spool_dir_local,
                days,
                datetime.now(UTC),
                dry_run=not args.yes,
                spool_dir=config.asterisk.spool_dir,
            )

    items = asyncio.run(run())
    troubles = [i for i in items if i.action in ("failed", "unsafe")]
    if args.yes:
        head = f"{len(items) - len(troubles)} recordings older than {days} days deleted"
    else:
        head = (
            f"dry run: {len(items)} recordings older than {days} days would be deleted "
            "(--yes deletes them)"
        )
    lines = [head] + [
        f"#{i.id:<5} {i.started_at.isoformat()}  {i.action:<12} {i.local_path or i.path}"
        + (f"  ({i.error})" if i.error else "")
        for i in items
    ]
    data = {"dry_run": not args.yes, "days": days, "items": [i.as_dict() for i in items]}
    show(data, args.json, "\n".join(lines))
    return 1 if troubles else 0


def cmd_check(args: argparse.Namespace) -> int:
    """A file deleted or damaged after the call is reported, never silently ignored."""
    from acd.records.store import Records, Row
    from acd.settings import Paths
    from recordings.naming import local_path
    from recordings.verify import inspect, status

    config = config_of(args)
    url = Paths.resolve(config).database_url
    since = _when(args.since, "--from")

    async def check() -> tuple[list[Row], list[Row]]:
        """One `Records` for the listing and every status it corrects."""
        found: list[Row] = []
        async with Records(url) as records:
            rows = await records.find_recordings(since=since, limit=100_000)
            for row in rows:
                if row["status"] == "purged":
                    continue
                local = local_path(
                    config.asterisk.spool_dir, config.asterisk.spool_dir_local, str(row["path"])
                )
                now = status(float(row["talk_seconds"] or 0.0), inspect(local))  # type: ignore[arg-type]
                if now != row["status"]:
                    await records.set_recording_status(int(row["id"]), now)  # type: ignore[call-overload]
                if now != "ok":
                    found.append({**row, "status": now})
        return rows, found

    rows, found = asyncio.run(check())
    lines = [f"{len(rows)} recordings checked, {len(found)} not ok"] + [
        _recording_line(r) for r in found
    ]
    show(found, args.json, "\n".join(lines))
    return 1 if found else 0


def cmd_qa(args: argparse.Namespace) -> int:
    from acd.records.store import Records

    url = database_url(args)

    async def write() -> bool:
        async with Records(url) as records:
            return await records.score_recording(
                args.id, args.score, args.comment or None, args.reviewer
            )

    try:
        found = asyncio.run(write())
    except ValueError as error:
        return fail(str(error))
    if not found:
        return fail(f"no recording {args.id}")
    show(
        {"id": args.id, "qa_score": args.score, "qa_reviewer": args.reviewer},
        args.json,
        f"recording {args.id}: QA {args.score} by {args.reviewer}",
    )
    return 0


def _review_line(r: dict[str, Any]) -> str:
    state = f"done {r['done_at']} by {r['reviewer'] or '-'}" if r["done_at"] else "open"
    late = "  OVERDUE" if r["overdue"] else ""
    ids = ", ".join(f"#{i}" for i in r["recording_ids"]) or "none"
    return (
        f"#{r['id']:<4} call {r['call_id']}  agent {r['agent'] or '-':<6} {r['reason']:<12} "
        f"due {r['due_at']}  {state}{late}  recordings {ids}"
    )


def cmd_reviews(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    url = database_url(args)

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.reviews(open_only=not args.all)

    rows = asyncio.run(read())
    empty = "no reviews" if args.all else "no open reviews"
    show(rows, args.json, "\n".join(_review_line(r) for r in rows) or empty)
    return 0


def cmd_review_done(args: argparse.Namespace) -> int:
    from acd.records.store import Records

    if not args.note.strip():
        return fail("--note must say what was found")
    url = database_url(args)

    async def write() -> bool:
        async with Records(url) as records:
            return await records.review_done(args.id, args.note, args.reviewer)

    if not asyncio.run(write()):
        return fail(f"no open review {args.id}")
    show({"id": args.id, "done": True}, args.json, f"review {args.id} done")
    return 0
