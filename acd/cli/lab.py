"""`acd lab`: the lab Asterisk the e2e tests and demos run against, rendered from the config,
synced and started (or stopped)."""

from __future__ import annotations

import argparse

from acd.cli.common import Subcommands, add_command, config_of


def register(sub: Subcommands) -> None:
    p = add_command(sub, "lab", "Render, sync and start (or stop) the lab Asterisk.", cmd_lab)
    p.add_argument("action", choices=["up", "down", "restart"])


def cmd_lab(args: argparse.Namespace) -> int:
    from acd import lab

    config = config_of(args)
    if args.action == "down":
        lab.stop_asterisk(lab.lab_root())
        print("lab Asterisk stopped")
    else:
        lab.up(config, restart=args.action == "restart")
        print(f"lab Asterisk running from {lab.lab_root()}")
    return 0
