"""Who may sign in to the web pages: the `web_users` table and argon2 password hashes.

Hashing is deliberately slow (argon2id, argon2-cffi's defaults, RFC 9106's low-memory
profile), so it runs in a worker thread: a login must never stall the engine's event loop,
which is routing calls at the same time.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from acd.records.models import WebUserRow
from acd.records.store import Records

Role = Literal["agent", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
#: Short passwords are the ones guessed first; a passphrase is easier to type anyway.
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work per request
_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as much as a wrong
# password and response times do not tell which names exist.
_DUMMY_HASH = _hasher.hash("not a real password, only here to spend the same time")


class UserError(ValueError):
    """A user that cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class WebUser:
    name: str
    role: Role
    agent: str | None


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UserError(
            f"user name {name!r}: 2-64 characters, lower-case letters, digits, '.', '_', '-',"
            " starting with a letter"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")
    return password


def check_role(role: str, agent: str | None) -> Role:
    if role not in ROLES:
        raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
    if role == "agent" and not agent:
        raise UserError("an agent user needs --agent, the work number they sign in as")
    return role


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def _verify(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Whether `password` matches `stored`, and a new hash if the stored one is outdated."""
    try:
        _hasher.verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None


def _user(row: object) -> WebUser:
    name, role, agent = cast(tuple[str, str, "str | None"], row)
    return WebUser(name, cast(Role, role), agent)


async def add_user(
    records: Records, name: str, role: str, agent: str | None, password: str
) -> WebUser:
    """Create a user; UserError if the name is taken or a field is not acceptable."""
    checked_role = check_role(role, agent)
    check_name(name)
    hashed = await asyncio.to_thread(hash_password, password)
    now = datetime.now(UTC)
    try:
        async with records.writing() as conn:
            await conn.execute(
                insert(WebUserRow).values(
                    name=name,
                    role=checked_role,
                    agent=agent or None,
                    password_hash=hashed,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise UserError(f"user {name!r} exists; use `acd user passwd {name}`") from None
    return WebUser(name, checked_role, agent or None)


async def set_password(records: Records, name: str, password: str) -> bool:
    """Replace a user's password; False if there is no such user."""
    hashed = await asyncio.to_thread(hash_password, password)
    async with records.writing() as conn:
        result = await conn.execute(
            update(WebUserRow)
            .where(WebUserRow.name == name)
            .values(password_hash=hashed, updated_at=datetime.now(UTC))
        )
        return bool(result.rowcount == 1)


async def list_users(records: Records) -> list[WebUser]:
    async with records.reading() as conn:
        rows = await conn.execute(
            select(WebUserRow.name, WebUserRow.role, WebUserRow.agent).order_by(WebUserRow.name)
        )
        return [_user(row) for row in rows.all()]


async def authenticate(records: Records, name: str, password: str) -> WebUser | None:
    """The user if `password` is theirs, else None (an unknown name takes as long)."""
    async with records.reading() as conn:
        found = (
            await conn.execute(
                select(
                    WebUserRow.name,
                    WebUserRow.role,
                    WebUserRow.agent,
                    WebUserRow.password_hash,
                ).where(WebUserRow.name == name)
            )
        ).first()
    stored = None if found is None else str(found[3])
    ok, rehashed = await asyncio.to_thread(_verify, stored, password)
    if not ok or found is None:
        return None
    if rehashed is not None:
        await _store_hash(records, name, rehashed)
    return _user(found[:3])


async def _store_hash(records: Records, name: str, hashed: str) -> None:
    async with records.writing() as conn:
        await conn.execute(
            update(WebUserRow).where(WebUserRow.name == name).values(password_hash=hashed)
        )
