"""`acd agent` and `acd supervise`: an agent's state and a supervisor's ChanSpy, asked of the
running engine (the engine validates and decides; these only carry the request and its
answer)."""

from __future__ import annotations

import argparse

from acd.cli.common import Subcommands, add_command, fail, show
from acd.cli.engine import ask_engine


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "agent",
        "Log an agent in or out, pause or make ready; join/leave puts a supervisor on the "
        "queues or takes them off; move puts an agent on given queues (--queues) or back on "
        "the queues their skills fit (no --queues).",
        cmd_agent,
    )
    p.add_argument("action", choices=["login", "logout", "pause", "ready", "join", "leave", "move"])
    p.add_argument("agent", help="the agent's work number")
    p.add_argument("--reason", default="break", help="pause reason (default: break)")
    p.add_argument("--queues", help="for move: comma-separated queue names")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add_command(
        sub,
        "supervise",
        "A supervisor listens to, whispers to or barges into an agent's call (ChanSpy).",
        cmd_supervise,
    )
    p.add_argument("mode", choices=["listen", "whisper", "barge"])
    p.add_argument("agent", help="the agent's work number")
    p.add_argument("--from", dest="supervisor", required=True, help="the supervisor's number")
    p.add_argument("--json", action="store_true", help="print JSON")


def cmd_agent(args: argparse.Namespace) -> int:
    queues = [q.strip() for q in args.queues.split(",") if q.strip()] if args.queues else None
    reply = ask_engine(
        args,
        {
            "cmd": "agent",
            "action": args.action,
            "agent": args.agent,
            "reason": args.reason,
            "queues": queues,
        },
    )
    if reply is None:
        return 1
    if not reply.get("ok"):
        return fail(str(reply.get("error")))
    show(reply, args.json, f"agent {reply['agent']}: {reply['state']}")
    return 0


def cmd_supervise(args: argparse.Namespace) -> int:
    reply = ask_engine(
        args,
        {"cmd": "supervise", "mode": args.mode, "agent": args.agent, "supervisor": args.supervisor},
    )
    if reply is None:
        return 1
    if not reply.get("ok"):
        return fail(str(reply.get("error")))
    show(reply, args.json, f"{args.supervisor}: {args.mode} on agent {args.agent}")
    return 0
