"""`acd`: the one command ops use, in the style of `nginx -t` and `asterisk -rx`.

Every command that prints data takes `--json`; every one has `--help`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from acd.config import ConfigError, load_config
from acd.config.models import Config

DEFAULT_CONFIG = os.environ.get("ACD_CONFIG_DIR", "dialplans")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
        return result
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """`--config DIR`: every command that reads dialplans/ takes it the same way."""
    parser.add_argument(
        "--config",
        "-c",
        default=DEFAULT_CONFIG,
        metavar="DIR",
        help="the dialplans directory (default: $ACD_CONFIG_DIR or ./dialplans)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acd", description="Contact-centre ACD engine.")
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(
        name: str, help_text: str, func: Any, config: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            add_config_argument(p)
        p.set_defaults(func=func)
        return p

    p = command("check", "Validate the YAML config; print OK or one line per error.", cmd_check)
    p.add_argument("dir", nargs="?", help="directory to check (default: --config)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = command("schema", "Write the JSON Schema of the config, for editors.", cmd_schema, False)
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    p = command("render", "Generate Asterisk include files and prompt audio.", cmd_render)
    p.add_argument("--out", metavar="DIR", help="include files directory (default: from config)")
    p.add_argument("--json", action="store_true", help="print the files written as JSON")

    p = command("run", "Run the engine in the foreground.", cmd_run)
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")

    p = command("status", "Queues with waiting calls and agents with states.", cmd_status)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("calls", "Recent call detail records.", cmd_calls)
    p.add_argument("--since", help="ISO time, or a duration like 30m, 2h, 1d")
    p.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("callbacks", "Callback requests (from the IVR and after hours).", cmd_callbacks)
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

    p = command("messages", "Messages callers left.", cmd_messages)
    p.add_argument("--since", help="ISO time, or a duration like 30m, 2h, 1d")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
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

    p = command(
        "supervise",
        "A supervisor listens to, whispers to or barges into an agent's call (ChanSpy).",
        cmd_supervise,
    )
    p.add_argument("mode", choices=["listen", "whisper", "barge"])
    p.add_argument("agent", help="the agent's work number")
    p.add_argument("--from", dest="supervisor", required=True, help="the supervisor's number")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("lab", "Render, sync and start (or stop) the lab Asterisk.", cmd_lab)
    p.add_argument("action", choices=["up", "down", "restart"])

    p = command("db", "Database maintenance.", cmd_db)
    p.add_argument("action", choices=["upgrade"])

    from recordings.cli import add_commands

    add_commands(sub, command)  # recordings find|export|purge|qa, reviews list|done
    __import__("acd.reports.cli").reports.cli.add_commands(sub, command)  # acd report
    __import__("acd.sim.cli").sim.cli.add_commands(sub, command)  # acd simulate
    __import__("acd.staffing.cli").staffing.cli.add_commands(sub, command)  # acd staffing
    __import__("acd.web.cli").web.cli.add_commands(sub)  # acd user add|passwd|list
    __import__("acd.records.cli").records.cli.add_commands(sub)  # acd caller|note|complaint
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(Path(args.config))


def _print(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def cmd_check(args: argparse.Namespace) -> int:
    directory = Path(args.dir or args.config)
    try:
        config = load_config(directory)
    except ConfigError as exc:
        if args.json:
            _print({"ok": False, "errors": exc.problems}, True, "")
        else:
            for problem in exc.problems:
                print(problem)
        return 1
    missing = _missing_audio(config, directory)
    if missing:
        if args.json:
            _print({"ok": False, "errors": missing}, True, "")
        else:
            print("\n".join(missing))
        return 1
    _print(
        {"ok": True, "queues": len(config.queues), "agents": len(config.agents)}, args.json, "OK"
    )
    return 0


def _missing_audio(config: Config, directory: Path) -> list[str]:
    """A prompt with no rendered audio would be a silent call: report it like a config error."""
    from acd.prompts import VOICES, prompt_id

    sounds = Path(config.asterisk.sounds_dir) / "acd"
    problems = []
    for name, texts in config.prompts.items():
        for language in VOICES:
            text = getattr(texts, language)
            if text and not (sounds / f"{prompt_id(text, language)}.wav").exists():
                path, line = _prompt_line(directory, name)
                problems.append(
                    f"{path}:{line}: prompts.{name}.{language}: no audio in {sounds} "
                    "(run `acd render`)"
                )
    return problems


def _prompt_line(directory: Path, name: str) -> tuple[Path, int]:
    for path in sorted(directory.glob("*.y*ml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("prompts:")]
        if not starts:
            continue
        for number, line in enumerate(lines[starts[0] :], start=starts[0] + 1):
            if line.strip().startswith(f"{name}:"):
                return path, number
    return directory, 0


def cmd_schema(args: argparse.Namespace) -> int:
    schema = json.dumps(Config.model_json_schema(), indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(schema + "\n", encoding="utf-8")
    else:
        print(schema)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from acd.lab import render

    config = _config(args)
    written = render(config, Path(args.out) if args.out else None)
    _print([str(p) for p in written], args.json, "\n".join(f"wrote {p}" for p in written))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from acd.engine import Engine
    from acd.settings import Paths

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = _config(args)
    engine = Engine(config, Paths.resolve(config))
    asyncio.run(engine.run())
    return 0


def _control(args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any] | None:
    from acd.control import EngineNotRunning, request
    from acd.settings import Paths

    paths = Paths.resolve(_config(args))
    try:
        return asyncio.run(request(paths.control_socket, payload))
    except EngineNotRunning as exc:
        print(f"acd: {exc}", file=sys.stderr)
        return None


def cmd_status(args: argparse.Namespace) -> int:
    reply = _control(args, {"cmd": "status"})
    if reply is None:
        return 1
    status = reply["status"]
    lines = [f"AMI connected: {'yes' if status.get('ami_connected') else 'NO'}", "Queues:"]
    for queue in status["queues"]:
        lines.append(
            f"  {queue['name']}: {len(queue['waiting'])} waiting, "
            f"{len(queue['ringing'])} ringing, {queue['talking']} talking"
        )
        for call in queue["waiting"]:
            lines.append(f"    {call['caller']} waiting {call['wait_seconds']}s")
    lines.append("Agents:")
    for agent in status["agents"]:
        reason = f" ({agent['reason']})" if agent["reason"] else ""
        held = agent["seconds_in_state"]
        since = f" for {held}s" if held is not None else ""
        lines.append(
            f"  {agent['number']}: {agent['state']}{reason}{since}, phone {agent['device']}"
        )
    lines += _rules_text(status.get("rules") or {})
    _print(status, args.json, "\n".join(lines))
    return 0


def _rules_text(rules: dict[str, Any]) -> list[str]:
    """The queue-depth rules in force and what they changed, for `acd status`."""

    def clock(epoch: float | None) -> str:
        if epoch is None:
            return "?"
        return datetime.fromtimestamp(epoch, tz=UTC).astimezone().strftime("%H:%M:%S")

    lines = ["Rules:"]
    for rule in rules.get("active", []):
        seen = ", ".join(f"{k}={v:g}" for k, v in rule["metrics"].items())
        lines.append(
            f"  {rule['rule']} active since {clock(rule['since'])} ({seen}): "
            + ", ".join(rule["actions"])
        )
    for rule in rules.get("pending", []):
        lines.append(f"  {rule['rule']} holding, fires at {clock(rule['fires_at'])}")
    if len(lines) == 1:
        lines.append("  none active")
    effects = rules.get("effects", {})
    changed = [
        text
        for key, text in (
            ("callbacks_suspended", "callbacks suspended"),
            ("breaks_suspended", "breaks suspended"),
            ("supervisors_called_in", "supervisors on the queues"),
        )
        if effects.get(key)
    ]
    if effects.get("callback_agent_cap") is not None:
        changed.append(f"at most {effects['callback_agent_cap']} agents on callbacks")
    if changed:
        lines.append("  in force: " + "; ".join(changed))
    lines += [f"  ALERT: {alert}" for alert in effects.get("alerts", [])]
    return lines


def cmd_agent(args: argparse.Namespace) -> int:
    reply = _control(
        args,
        {
            "cmd": "agent",
            "action": args.action,
            "agent": args.agent,
            "reason": args.reason,
            "queues": [q.strip() for q in args.queues.split(",") if q.strip()]
            if args.queues
            else None,
        },
    )
    if reply is None:
        return 1
    if not reply.get("ok"):
        print(f"acd: {reply.get('error')}", file=sys.stderr)
        return 1
    _print(reply, args.json, f"agent {reply['agent']}: {reply['state']}")
    return 0


def parse_duration(text: str) -> float | None:
    """Seconds in a duration like 90s, 30m, 2h, 1d (or a plain number of seconds); None if
    `text` is not one."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return float(text[:-1]) * units[text[-1]]
    if text and text.replace(".", "", 1).isdigit():
        return float(text)
    return None


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO time (naive means UTC) or a duration back from now: 90s, 30m, 2h, 1d."""
    now = now or datetime.now(tz=UTC)
    if text and text[-1] in "smhd" and (seconds := parse_duration(text)) is not None:
        return now - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"acd: --since {text!r}: use an ISO time or a duration like 30m") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_calls(args: argparse.Namespace) -> int:
    from acd.records.queries import recent_calls
    from acd.settings import Paths

    paths = Paths.resolve(_config(args))
    since = parse_since(args.since) if args.since else None
    rows = asyncio.run(recent_calls(paths.database_url, since=since, limit=args.limit))
    lines = [
        f"{r['entered_at']}  {r['caller']:<16} {r['queue']:<10} agent {r['agent'] or '-':<6} "
        f"wait {r['wait_seconds'] if r['wait_seconds'] is not None else '-'}s "
        f"talk {r['talk_seconds'] if r['talk_seconds'] is not None else '-'}s "
        f"{r['disposition']} ({r['hangup_side'] or '-'})"
        for r in rows
    ]
    _print(rows, args.json, "\n".join(lines) or "no calls")
    return 0


def cmd_supervise(args: argparse.Namespace) -> int:
    reply = _control(
        args,
        {"cmd": "supervise", "mode": args.mode, "agent": args.agent, "supervisor": args.supervisor},
    )
    if reply is None:
        return 1
    if not reply.get("ok"):
        print(f"acd: {reply.get('error')}", file=sys.stderr)
        return 1
    _print(reply, args.json, f"{args.supervisor}: {args.mode} on agent {args.agent}")
    return 0


def cmd_callbacks(args: argparse.Namespace) -> int:
    from acd.records.queries import callbacks
    from acd.settings import Paths

    if args.add is not None:
        return _add_callback(args)
    rows = asyncio.run(callbacks(Paths.resolve(_config(args)).database_url, status=args.status))
    lines = [
        f"{r['requested_at']}  {r['caller']:<16} {r['kind']:<12} {r['queue']:<10} "
        f"due {r['due_at']}  {r['status']}"
        for r in rows
    ]
    _print(rows, args.json, "\n".join(lines) or "no callbacks")
    return 0


def _add_callback(args: argparse.Namespace) -> int:
    from acd.dialer import add_callback
    from acd.records.migrate import upgrade_async
    from acd.settings import Paths

    if args.add != "add" or not args.number:
        print("acd: usage: acd callbacks add NUMBER [--kind ...]", file=sys.stderr)
        return 2
    if not args.number.lstrip("+").isdigit():
        print(f"acd: {args.number!r} is not a phone number", file=sys.stderr)
        return 2
    config = _config(args)
    queue = args.queue or config.queues[0].name
    hotline = args.hotline or config.hotlines[0].name
    try:
        config.queue(queue)
        config.hotline(hotline)
    except KeyError as exc:
        print(f"acd: unknown queue or hotline {exc}", file=sys.stderr)
        return 2
    url = Paths.resolve(config).database_url
    asyncio.run(upgrade_async(url))
    row = asyncio.run(
        add_callback(
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
    _print(shown, args.json, f"callback {shown['id']} for {args.number} due {shown['due_at']}")
    return 0


def cmd_messages(args: argparse.Namespace) -> int:
    from acd.records.queries import messages
    from acd.settings import Paths

    since = parse_since(args.since) if args.since else None
    rows = asyncio.run(messages(Paths.resolve(_config(args)).database_url, since=since))
    lines = [f"{r['created_at']}  {r['caller']:<16} {r['seconds']}s  {r['path']}" for r in rows]
    _print(rows, args.json, "\n".join(lines) or "no messages")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from acd import lab

    config = _config(args)
    if args.action == "down":
        lab.stop_asterisk(lab.lab_root())
        print("lab Asterisk stopped")
    else:
        lab.up(config, restart=args.action == "restart")
        print(f"lab Asterisk running from {lab.lab_root()}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from acd.records.migrate import upgrade
    from acd.settings import Paths

    upgrade(Paths.resolve(_config(args)).database_url)
    print("database is at the latest schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
