"""`acd user add|passwd|list`: who may sign in to the web pages.

Passwords never come from the command line (argv is visible to every user in `ps` and ends up
in shell history): they are read from ACD_USER_PASSWORD, else typed twice at a terminal, else
taken from the first line of stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict
from typing import TextIO

from acd.cli.common import Subcommands, add_command, add_group, config_of, database_url, fail
from acd.records.store import Records
from acd.web.users import ROLES, UserError, add_user, check_password, list_users, set_password

PASSWORD_ENV = "ACD_USER_PASSWORD"


def register(sub: Subcommands) -> None:
    """Add `user` with its actions."""
    actions = add_group(sub, "user", "Users of the web pages: add, change a password, list.")
    p = add_command(
        actions,
        "add",
        f"Add a user. The password is read from ${PASSWORD_ENV}, a terminal prompt or stdin.",
        cmd_add,
    )
    p.add_argument("name", help="sign-in name: lower-case letters, digits, '.', '_', '-'")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument(
        "--agent",
        metavar="NUMBER",
        help="the work number the user acts as (agents: required; supervisors: to listen in)",
    )
    p = add_command(
        actions, "passwd", "Set a user's password (read like `add` reads it).", cmd_passwd
    )
    p.add_argument("name")
    p = add_command(actions, "list", "List users with their roles and work numbers.", cmd_list)
    p.add_argument("--json", action="store_true", help="print JSON")


def read_password(
    env: Mapping[str, str] | None = None, stdin: TextIO | None = None, confirm: bool = True
) -> str:
    """The new password: $ACD_USER_PASSWORD, else a terminal prompt (twice), else stdin."""
    environ: Mapping[str, str] = os.environ if env is None else env
    stdin = stdin or sys.stdin
    if environ.get(PASSWORD_ENV):
        return check_password(environ[PASSWORD_ENV])
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Again: ") != first:
            raise UserError("the two passwords differ")
        return check_password(first)
    return check_password(stdin.readline().rstrip("\r\n"))


async def _migrated(url: str) -> None:
    from acd.records.migrate import upgrade_async

    await upgrade_async(url)


def cmd_add(args: argparse.Namespace) -> int:
    from acd.settings import Paths

    config = config_of(args)
    url = Paths.resolve(config).database_url
    if args.agent and config.agent(args.agent) is None:
        return fail(f"--agent {args.agent}: not an agent in the config")
    try:
        password = read_password()

        async def run() -> None:
            await _migrated(url)
            async with Records(url) as records:
                await add_user(records, args.name, args.role, args.agent, password)

        asyncio.run(run())
    except UserError as exc:
        return fail(str(exc))
    print(f"user {args.name} added ({args.role}{', agent ' + args.agent if args.agent else ''})")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    url = database_url(args)
    try:
        password = read_password()

        async def run() -> bool:
            await _migrated(url)
            async with Records(url) as records:
                return await set_password(records, args.name, password)

        changed = asyncio.run(run())
    except UserError as exc:
        return fail(str(exc))
    if not changed:
        return fail(f"no user {args.name}")
    print(f"password of {args.name} changed")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    url = database_url(args)

    async def run() -> list[dict[str, object]]:
        await _migrated(url)
        async with Records(url) as records:
            return [asdict(user) for user in await list_users(records)]

    users = asyncio.run(run())
    if args.json:
        print(json.dumps(users, ensure_ascii=False, indent=2))
    else:
        for user in users:
            print(f"{user['name']:<20} {user['role']:<11} {user['agent'] or '-'}")
        if not users:
            print("no users")
    return 0
