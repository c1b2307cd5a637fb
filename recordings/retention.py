"""Delete recordings older than the retention period (`centre.recording_retention_days`).

Files first, rows after: a row is marked "purged" (with `purged_at`) only once its file is
gone, so a crash or a failed delete can never leave a row that claims a file was deleted while
the file - personal data - is still on disk. A file already gone is marked too; a file that
could not be deleted leaves its row as it was, to be tried again on the next run.

`plan` is the pure choice of what is due; `purge` carries it out (or, by default, only says
what it would do).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.records.models import RecordingRow
from acd.records.store import Records
from recordings.naming import UnsafePath, inside, stored_local_path

PURGED = "purged"


class Candidate(NamedTuple):
    """What planning needs of a `recordings` row."""

    id: int
    path: str
    started_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class PurgeItem:
    """One recording's fate.

    `action`: "would-delete" / "would-mark" (dry run: the file is there / already gone),
    "deleted", "already-gone" (row marked either way), "failed" (the file could not be
    deleted; row left alone), "unsafe" (the stored path leads outside the spool; nothing done).
    """

    id: int
    path: str
    local_path: str
    started_at: datetime
    action: str
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started_at"] = self.started_at.isoformat()
        return out


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def cutoff(now: datetime, days: int) -> datetime:
    """Recordings started before this are due for deletion."""
    _check_aware(now)
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    return now - timedelta(days=days)


def plan(
    rows: Iterable[Candidate | tuple[int, str, datetime, str]], now: datetime, days: int
) -> list[Candidate]:
    """The rows to purge, oldest first: started more than `days` days before `now`, not yet
    purged."""
    before = cutoff(now, days)
    due = [Candidate(*row) for row in rows]
    due = [row for row in due if row.status != PURGED and row.started_at < before]
    return sorted(due, key=lambda row: (row.started_at, row.id))


def _delete_file(path: Path) -> str:
    """Delete one file; "deleted" or "already-gone". OSError for anything else.

    `unlink` removes a symbolic link itself, never what it points to.
    """
    try:
        path.unlink()
    except FileNotFoundError:
        return "already-gone"
    return "deleted"


async def _mark(conn: AsyncConnection, recording_id: int, now: datetime) -> None:
    await conn.execute(
        update(RecordingRow)
        .where(RecordingRow.id == recording_id, RecordingRow.status != PURGED)
        .values(status=PURGED, purged_at=now)
    )


def _locate(
    row: Candidate, spool_dir: str | PurePath, spool_root: Path
) -> tuple[Path | None, str | None]:
    """The file's path on this side, or (None, why) if it must not be touched."""
    try:
        local = stored_local_path(spool_dir, spool_root, row.path)
    except UnsafePath as error:
        return None, str(error)
    # The name itself may be a link (unlink removes just the link); the folders above it
    # must not lead out of the spool.
    if not inside(spool_root, local.parent):
        return None, f"{local} leads outside the spool {spool_root}"
    return local, None


async def purge(
    records: Records,
    spool_dir_local: str | Path,
    days: int,
    now: datetime,
    dry_run: bool = True,
    *,
    spool_dir: str | PurePath | None = None,
) -> list[PurgeItem]:
    """Delete the files of recordings older than `days` and mark their rows "purged".

    `spool_dir` is the spool as Asterisk sees it (the stored paths are Asterisk's); default:
    the same as `spool_dir_local`. With `dry_run` nothing is changed. Stops (raises) at the
    first row that cannot be marked, so at most one deleted file is left unmarked - and that
    one is marked by the next run, as "already-gone".
    """
    before = cutoff(now, days)
    spool_root = Path(spool_dir_local)
    asterisk_spool = spool_dir if spool_dir is not None else spool_root
    done: list[PurgeItem] = []
    async with records.reading() as conn:
        result = await conn.execute(
            select(RecordingRow.id, RecordingRow.path, RecordingRow.started_at, RecordingRow.status)
            .where(RecordingRow.started_at < before, RecordingRow.status != PURGED)
            .order_by(RecordingRow.started_at, RecordingRow.id)
        )
        rows = plan([Candidate(*row) for row in result.all()], now, days)
    for row in rows:
        local, problem = _locate(row, asterisk_spool, spool_root)
        where = str(local) if local is not None else ""
        if local is None:
            done.append(PurgeItem(row.id, row.path, where, row.started_at, "unsafe", problem))
            continue
        if dry_run:
            exists = await asyncio.to_thread(os.path.lexists, local)
            action = "would-delete" if exists else "would-mark"
            done.append(PurgeItem(row.id, row.path, where, row.started_at, action))
            continue
        try:
            action = await asyncio.to_thread(_delete_file, local)
        except OSError as error:
            why = f"{type(error).__name__}: {error.strerror or error}"
            done.append(PurgeItem(row.id, row.path, where, row.started_at, "failed", why))
            continue
        async with records.writing() as conn:
            await _mark(conn, row.id, now)
        done.append(PurgeItem(row.id, row.path, where, row.started_at, action))
    return done
