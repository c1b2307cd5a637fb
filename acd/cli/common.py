"""What every `acd` command shares: the `--config` argument, loading the config, printing,
the one error type for a user's mistake, and reading durations and times.

A leaf: it imports nothing from `acd.cli`, so every command module can import it at the top
and none needs the parser assembly (`acd.cli.main`), which imports them all. Parsing here
raises `CliError` instead of exiting, so a caller can reword the message for its own option
and a test can call it without catching `SystemExit`; `acd.cli.main.main` prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

from acd.config import load_config
from acd.config.models import Config
from acd.settings import Paths

DEFAULT_CONFIG = os.environ.get("ACD_CONFIG_DIR", "dialplans")

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `register(sub)` of each command module adds its commands to."""

Handler = Callable[[argparse.Namespace], int]
"""A command: the parsed arguments in, the exit status out."""


class CliError(Exception):
    """A mistake of the user's (a bad option value, an unknown name): `acd: <message>` on
    stderr and exit status `status`, never a traceback."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def fail(message: str, status: int = 1) -> int:
    """Report a refusal the way `acd.cli.main` reports a `CliError`; the status to return."""
    print(f"acd: {message}", file=sys.stderr)
    return status


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """`--config DIR`: every command that reads dialplans/ takes it the same way."""
    parser.add_argument(
        "--config",
        "-c",
        default=DEFAULT_CONFIG,
        metavar="DIR",
        help="the dialplans directory (default: $ACD_CONFIG_DIR or ./dialplans)",
    )


def add_command(
    sub: Subcommands, name: str, help_text: str, func: Handler, config: bool = True
) -> argparse.ArgumentParser:
    """One subcommand whose help and description are the same sentence; `config=False` for a
    command that reads no dialplans/ (or puts `--config` on its own actions)."""
    parser = sub.add_parser(name, help=help_text, description=help_text)
    if config:
        add_config_argument(parser)
    parser.set_defaults(func=func)
    return parser


def add_group(sub: Subcommands, name: str, help_text: str) -> Subcommands:
    """A command made of actions (`acd user add`); given no action it prints its help and
    exits with status 2, like `acd` alone."""
    parser = add_command(sub, name, help_text, lambda _args: usage(parser), config=False)
    return parser.add_subparsers(metavar="ACTION")


def usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def config_of(args: argparse.Namespace) -> Config:
    """The config of `--config`."""
    return load_config(Path(args.config))


def database_url(args: argparse.Namespace) -> str:
    """The records database of the config of `--config`."""
    return Paths.resolve(config_of(args)).database_url


def show(data: Any, as_json: bool, text: str) -> None:
    """`--json` prints the data (indented, non-ASCII kept); otherwise the text for people."""
    print(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def seconds_text(value: object) -> str:
    """A number of seconds as `12s`, or `-` when the records have none."""
    return f"{value:.0f}s" if isinstance(value, int | float) else "-"


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
    """An ISO time (naive means UTC) or a duration back from now: 90s, 30m, 2h, 1d.

    Raises `CliError` naming `--since`; commands whose option has another name catch it and
    raise their own."""
    now = now or datetime.now(tz=UTC)
    if text and text[-1] in "smhd" and (seconds := parse_duration(text)) is not None:
        return now - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--since {text!r}: use an ISO time or a duration like 30m") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
