"""`acd caller`, `acd timeline`, `acd note` and `acd complaint`: a caller's history, a call's
timeline and the case work on calls.

Notes and complaints are written straight to the records database (the engine need not run);
both refuse a call the records do not know and an agent the config does not know, since a
ticket or a complaint filed against nothing is lost work.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from acd.cli.common import (
    Handler,
    Subcommands,
    add_command,
    config_of,
    database_url,
    fail,
    seconds_text,
    show,
)


def register(sub: Subcommands) -> None:
    def command(name: str, help_text: str, func: Handler) -> argparse.ArgumentParser:
        p = add_command(sub, name, help_text, func)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    p = command(
        "caller",
        "A caller's history: how often and when they called, who took the calls, notes, "
        "ratings and complaints.",
        cmd_caller,
    )
    p.add_argument("number", help="the caller's number, exactly as the caller ID shows it")
    p.add_argument("--limit", type=int, default=50, help="at most this many calls (default 50)")

    p = command(
        "timeline",
        "A call's timeline: IVR, queue entry, each offer with its ring time and outcome, "
        "connect, hang-up.",
        cmd_timeline,
    )
    p.add_argument("call_id", help="the call's id (from `acd calls`)")

    p = command(
        "note",
        "Key in the ticket of a call: the caller's need, address and contact (or free text).",
        cmd_note,
    )
    p.add_argument("call_id", help="the call's id (from `acd calls` or the screen pop)")
    p.add_argument("--agent", required=True, help="the work number of the agent writing it")
    p.add_argument("--need", help="what the caller needs (需求)")
    p.add_argument("--address", help="where (地址)")
    p.add_argument("--contact", help="how to reach the caller (联系方式)")
    p.add_argument("--text", help="anything else")

    p = command(
        "complaint",
        "Record a complaint against an agent (by work number) on a call; the team lead owes "
        "the caller a call back within one working day (`acd reviews list`).",
        cmd_complaint,
    )
    p.add_argument("call_id", help="the call complained about")
    p.add_argument("--agent", required=True, help="the work number of the agent complained about")
    p.add_argument("--text", required=True, help="what the caller complains about")


def _history_text(history: dict[str, Any]) -> str:
    summary = history["summary"]
    if not history["calls"]:
        return f"{history['number']}: no calls recorded"
    average = summary["average_score"]
    lines = [
        f"{history['number']}: {history['calls']} calls, first {history['first_call']}, "
        f"last {history['last_call']}",
        f"  answered {summary['answered']}, abandoned {summary['abandoned']}, "
        f"rated {summary['rated']} (average {average if average is not None else '-'}), "
        f"dissatisfied {summary['dissatisfied']}, complaints {summary['complaints']}",
    ]
    for call in history["history"]:
        score = f" score {call['survey_score']}" if call["survey_score"] is not None else ""
        unhappy = " DISSATISFIED" if call["dissatisfied"] else ""
        lines.append(
            f"{call['when']}  {call['call_id']}  {call['queue'] or '-':<10} "
            f"agent {call['agent'] or '-':<6} {call['disposition']:<10} "
            f"wait {seconds_text(call['wait_seconds'])} talk {seconds_text(call['talk_seconds'])}"
            f"{score}{unhappy}  ivr {call['ivr_path'] or '-'}"
        )
        for note in call["notes"]:
            parts = [
                f"{label} {note[key]}"
                for key, label in (
                    ("need", "need:"),
                    ("address", "address:"),
                    ("contact", "contact:"),
                    ("text", "note:"),
                )
                if note[key]
            ]
            lines.append(f"    note by {note['agent']}: " + "; ".join(parts))
        for complaint in call["complaints"]:
            state = f"done {complaint['done_at']}" if complaint["done_at"] else "open"
            lines.append(
                f"    complaint #{complaint['review_id']} against {complaint['agent']}: "
                f"{complaint['text'] or '-'} (call back by {complaint['due_at']}, {state})"
            )
    return "\n".join(lines)


def cmd_caller(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    if args.limit < 1:
        return fail("--limit must be at least 1")
    url = database_url(args)

    async def read() -> Row:
        async with Records(url) as records:
            return await records.caller_history(args.number, args.limit)

    history = asyncio.run(read())
    show(history, args.json, _history_text(history))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from acd.records.store import Records, Row

    url = database_url(args)

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.call_timeline(args.call_id)

    events = asyncio.run(read())
    lines = [
        f"{e['at']}  {e['kind']:<14} {e['queue'] or '':<10} {e['agent'] or '':<6} "
        + " ".join(f"{k}={v}" for k, v in dict(e["data"]).items())  # type: ignore[call-overload]
        for e in events
    ]
    show(events, args.json, "\n".join(lines) or f"no timeline for {args.call_id}")
    return 0 if events else 1


def cmd_note(args: argparse.Namespace) -> int:
    from acd.records.items import CaseNote
    from acd.records.store import Records
    from acd.settings import Paths

    config = config_of(args)
    if config.agent(args.agent) is None:
        return fail(f"no agent {args.agent} in the config")
    fields: dict[str, str | None] = {
        name: (getattr(args, name) or "").strip() or None
        for name in ("need", "address", "contact", "text")
    }
    if not any(fields.values()):
        return fail("say something: --need, --address, --contact or --text")
    now = datetime.now(UTC)
    note = CaseNote(
        args.call_id,
        args.agent,
        need=fields["need"],
        address=fields["address"],
        contact=fields["contact"],
        text=fields["text"],
        at=now.timestamp(),
    )
    url = Paths.resolve(config).database_url

    async def write() -> bool:
        async with Records(url) as records:
            return await records.add_case_note(note)

    if not asyncio.run(write()):
        return fail(f"no call {args.call_id} in the records")
    show(
        {"call_id": args.call_id, "agent": args.agent, "at": now.isoformat(), **fields},
        args.json,
        f"note stored on call {args.call_id}",
    )
    return 0


def cmd_complaint(args: argparse.Namespace) -> int:
    from acd.records.casework import complaint_due
    from acd.records.store import Records
    from acd.settings import Paths

    config = config_of(args)
    if config.agent(args.agent) is None:
        return fail(f"no agent {args.agent} in the config")
    if not args.text.strip():
        return fail("--text must say what the caller complains about")
    url = Paths.resolve(config).database_url
    now = datetime.now(UTC)

    async def write() -> tuple[int, datetime] | None:
        """One `Records` for the read of the call's hotline and the complaint's write."""
        async with Records(url) as records:
            call = await records.get_call(args.call_id)
            if call is None:
                return None
            due = complaint_due(config, str(call["hotline"]), now)
            review = await records.open_complaint(
                args.call_id, args.agent, args.text.strip(), now, due
            )
            return None if review is None else (review, due)

    opened = asyncio.run(write())
    if opened is None:
        return fail(f"no call {args.call_id} in the records")
    review, due = opened
    show(
        {
            "review_id": review,
            "call_id": args.call_id,
            "agent": args.agent,
            "due_at": due.isoformat(),
        },
        args.json,
        f"complaint #{review} against agent {args.agent} on call {args.call_id}; "
        f"call the caller back by {due.isoformat()}",
    )
    return 0
