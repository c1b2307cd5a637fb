"""The `acd` parser, assembled from the command modules, and the console script's `main`.

Each command module adds its commands with `register(sub)`; the order here is the order
`acd --help` lists them in. A new command goes into the module of its group (or a new one
registered here), never into this file.
"""

from __future__ import annotations

import argparse
import sys

from acd.cli import (
    agent,
    calls,
    config,
    db,
    engine,
    lab,
    recordings,
    records,
    reports,
    sim,
    staffing,
    users,
)
from acd.cli.common import CliError, fail
from acd.config import ConfigError

COMMANDS = (
    config,  # check, schema, render
    engine,  # run, status
    calls,  # calls, callbacks, messages
    agent,  # agent, supervise
    lab,  # lab
    db,  # db upgrade
    recordings,  # recordings find|export|purge|check|qa, reviews list|done
    reports,  # report
    sim,  # simulate
    staffing,  # staffing
    users,  # user add|passwd|list
    records,  # caller, timeline, note, complaint
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acd", description="Contact-centre ACD engine.")
    sub = parser.add_subparsers(metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status. A config error prints one line per problem and a
    user's mistake (`CliError`) one `acd: ...` line, both without a traceback."""
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
    except CliError as exc:
        return fail(str(exc), exc.status)
    except KeyboardInterrupt:
        return 130
