"""Where call recordings live in the spool, and how the engine finds them there.

Files are laid out by day so that a day, a month or a year can be found (and archived) by
folder, and each name tells a person the time, the agent and the call at a glance:

    recordings/2023/11/14/20231114-221320_agent2001_1700000000.12.wav

The call id and the agent come from outside (Asterisk, config), so both are reduced to
`[A-Za-z0-9.-]`: no `/`, no `_` (the field separator) and nothing a shell or a path could take
for more than a name. A value that had to change, or was cut to length, gets a short hash of
the original, so two calls whose ids differ only in unsafe characters still get two files.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path, PurePath, PurePosixPath

RECORDINGS_DIR = "recordings"
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")
_MAX_FIELD = 64


class UnsafePath(ValueError):
    """A path that would lead outside the spool, or is not a plain path under it."""


def safe_field(value: str) -> str:
    """`value` reduced to `[A-Za-z0-9.-]`, at most 64+7 characters, never empty, never only
    dots. Safe values come back unchanged; changed ones carry a short hash of the original."""
    cleaned = _UNSAFE.sub("-", value)
    if cleaned.strip(".") == "":
        cleaned = "none" if not cleaned else cleaned.replace(".", "-")
    if cleaned == value and len(cleaned) <= _MAX_FIELD:
        return cleaned
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{cleaned[:_MAX_FIELD]}-{digest}"


def recording_relpath(started_at: datetime, call_id: str, agent: str) -> str:
    """The recording's path relative to the spool, dated in UTC.

    "recordings/YYYY/MM/DD/YYYYMMDD-HHMMSS_agent<agent>_<call_id>.wav". `started_at` must be
    timezone-aware: a naive time's zone is a guess, and a wrong guess files the call under
    the wrong day.
    """
    if started_at.tzinfo is None or started_at.utcoffset() is None:
        raise ValueError(f"naive datetime {started_at!r}: give an aware time")
    when = started_at.astimezone(UTC)
    name = f"{when:%Y%m%d-%H%M%S}_agent{safe_field(agent)}_{safe_field(call_id)}.wav"
    return f"{RECORDINGS_DIR}/{when:%Y/%m/%d}/{name}"


def _relative_inside(root: PurePath, path: PurePath) -> PurePath:
    """`path` relative to `root`, refusing `..`, relative paths and paths outside `root`."""
    if not path.is_absolute() or not root.is_absolute():
        raise UnsafePath(f"{str(path)!r}: not an absolute path under {str(root)!r}")
    if ".." in path.parts or ".." in root.parts:
        raise UnsafePath(f"{str(path)!r}: '..' is not allowed")
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise UnsafePath(f"{str(path)!r} is outside the spool {str(root)!r}") from None
    if not relative.parts:
        raise UnsafePath(f"{str(path)!r} is the spool itself, not a file in it")
    return relative


def local_path(
    spool_dir: str | PurePath, spool_dir_local: str | Path, asterisk_path: str | PurePath
) -> Path:
    """The engine's path of a file Asterisk wrote as `asterisk_path` under `spool_dir`.

    Purely lexical: UnsafePath (a ValueError) if `asterisk_path` is not absolute, contains
    `..`, holds a NUL or lies outside `spool_dir`. Symbolic links on disk are the concern of
    whoever opens the file (see `recordings.export`).
    """
    text = str(asterisk_path)
    if "\x00" in text:
        raise UnsafePath("path contains a NUL character")
    relative = _relative_inside(PurePosixPath(str(spool_dir)), PurePosixPath(text))
    return Path(spool_dir_local).joinpath(*relative.parts)


def stored_local_path(spool_dir: str | PurePath, spool_dir_local: str | Path, stored: str) -> Path:
    """The engine's path of a recording as a row stores it: an absolute Asterisk-side path
    under `spool_dir` (see `local_path`), or a path relative to the spool without `..`."""
    if "\x00" in stored:
        raise UnsafePath("path contains a NUL character")
    relative = PurePosixPath(stored)
    if relative.is_absolute():
        return local_path(spool_dir, spool_dir_local, stored)
    if ".." in relative.parts or not relative.parts:
        raise UnsafePath(f"{stored!r}: not a plain path under the spool")
    return Path(spool_dir_local).joinpath(*relative.parts)


def inside(root: Path, path: Path) -> bool:
    """True if `path`, with every symbolic link resolved, is `root` (resolved) or below it."""
    try:
        return path.resolve(strict=False).is_relative_to(root.resolve(strict=False))
    except (OSError, RuntimeError):  # a symlink loop
        return False
