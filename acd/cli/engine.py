"""`acd run` and `acd status`: the engine in the foreground, and what it sees now.

`ask_engine` is the one way a command talks to the running engine (its control socket);
`acd agent` and `acd supervise` use it too.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from acd.cli.common import Subcommands, add_command, config_of, fail, show


def register(sub: Subcommands) -> None:
    p = add_command(sub, "run", "Run the engine in the foreground.", cmd_run)
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")

    p = add_command(sub, "status", "Queues with waiting calls and agents with states.", cmd_status)
    p.add_argument("--json", action="store_true", help="print JSON")


def cmd_run(args: argparse.Namespace) -> int:
    from acd.engine import Engine
    from acd.settings import Paths

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = config_of(args)
    engine = Engine(config, Paths.resolve(config))
    asyncio.run(engine.run())
    return 0


def ask_engine(args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The engine's reply to `payload`, or None (said on stderr) when no engine runs."""
    from acd.control import EngineNotRunning, request
    from acd.settings import Paths

    paths = Paths.resolve(config_of(args))
    try:
        return asyncio.run(request(paths.control_socket, payload))
    except EngineNotRunning as exc:
        fail(str(exc))
        return None


def cmd_status(args: argparse.Namespace) -> int:
    reply = ask_engine(args, {"cmd": "status"})
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
    lines += rules_text(status.get("rules") or {})
    show(status, args.json, "\n".join(lines))
    return 0


def rules_text(rules: dict[str, Any]) -> list[str]:
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
