"""Generated secrets (AMI secret, agents' SIP passwords), kept in a file outside git.

Generated once and reused, so re-rendering the config does not log every phone out; the file
is created owner-only because anyone who reads it can place calls as an agent.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PASSWORD_BYTES = 24  # 32 URL-safe characters
PIN_DIGITS = 6


def load_secrets(path: Path, agents: Iterable[str] = ()) -> dict[str, Any]:
    """Read the secrets file, adding any that are missing, and write it back if it changed."""
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
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
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    value = data.get(name)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(nbytes)
        data[name] = value
        _save(path, data)
    return value


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)
