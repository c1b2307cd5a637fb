"""Generated secrets (AMI secret, agents' SIP passwords), kept in a file outside git.

Generated once and reused, so re-rendering the config does not log every phone out; the file
is created owner-only because anyone who reads it can place calls as an agent. For the same
reason an existing file that others can read is tightened to owner-only (with a warning) when
it is read, and neither the file nor its temporary twin is ever followed through a symlink: a
link planted in the state directory must not make us write the secrets somewhere else.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("acd.secrets")
FILE_MODE = 0o600

PASSWORD_BYTES = 24  # 32 URL-safe characters
PIN_DIGITS = 6


def load_secrets(path: Path, agents: Iterable[str] = ()) -> dict[str, Any]:
    """Read the secrets file, adding any that are missing, and write it back if it changed."""
    data = _read(path)
    changed = False
    if "ami_secret" not in data:
        data["ami_secret"] = secrets.token_urlsafe(PASSWORD_BYTES)
        changed = True
    passwords: dict[str, str] = data.setdefault("agents", {})
    pins: dict[str, str] = data.setdefault("pins", {})
    for number in agents:
        if number not in passwords:
            passwords[number] = secrets.token_urlsafe(PASSWORD_BYTES)
            changed = True
        if number not in pins:
            # What an agent keys in on the phone with *41: digits only.
            pins[number] = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
            changed = True
    if changed:
        _save(path, data)
    return data


def ensure_secret(path: Path, name: str, nbytes: int = PASSWORD_BYTES) -> str:
    """The secret called `name` in the secrets file, generated and saved on first use.

    For keys that belong to one feature (the web pages' session key): they live beside the
    others, owner-only, and survive restarts so sessions do too.
    """
    data = _read(path)
    value = data.get(name)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(nbytes)
        data[name] = value
        _save(path, data)
    return value


def _read(path: Path) -> dict[str, Any]:
    """The file's secrets ({} when there is none yet), owner-only from now on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, "r", encoding="utf-8") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("secrets file %s was readable by others: now owner-only", path)
            os.fchmod(handle.fileno(), FILE_MODE)
        data: dict[str, Any] = json.load(handle)
    return data


def _save(path: Path, data: dict[str, Any]) -> None:
    """Write through a fresh temporary file (never one found in place), then rename it over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a leftover, or a planted link: removed, not followed
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
