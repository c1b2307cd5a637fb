"""Copy a recording out of the spool for QA or training, without opening a hole in it.

Recordings are personal data. The source must be a regular file that resolves inside the spool
(no `..`, no symbolic link leading out), checked again on the opened file itself; the copy is
created new (never over an existing file, never through a link) and readable by its owner only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePath

from acd.records.store import Records
from recordings.naming import UnsafePath, stored_local_path

_CHUNK = 1 << 16
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class ExportError(Exception):
    """The recording cannot be exported; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    sha256: str  # of the bytes copied


def _opened_path(fd: int) -> Path | None:
    """Where an open file really is (Linux: /proc/self/fd), or None if unknown."""
    link = Path(f"/proc/self/fd/{fd}")
    try:
        return Path(os.readlink(link))
    except OSError:
        return None


def _open_source(source: Path, spool_root: Path) -> int:
    if ".." in source.parts:
        raise ExportError(f"{source}: '..' is not allowed")
    try:
        root = spool_root.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise ExportError(f"spool {spool_root} is not there: {error}") from None
    try:
        real = source.resolve(strict=True)
    except FileNotFoundError:
        raise ExportError(f"{source}: no such file") from None
    except (OSError, RuntimeError) as error:
        raise ExportError(f"{source}: {error}") from None
    if not real.is_relative_to(root):
        raise ExportError(f"{source} leads outside the spool {spool_root}")
    try:
        # Non-blocking: opening a FIFO planted in the spool would otherwise wait for a writer.
        fd = os.open(real, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK)
    except OSError as error:
        raise ExportError(f"{source}: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ExportError(f"{source} is not a regular file")
        # The folders may have changed between resolving and opening: ask the open file.
        opened = _opened_path(fd)
        if opened is not None and not opened.is_relative_to(root):
            raise ExportError(f"{source} leads outside the spool {spool_root}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _target(dest: Path, name: str) -> Path:
    return dest / name if dest.is_dir() else dest


def copy_recording(source: Path, spool_root: Path, dest: Path) -> Exported:
    """Copy `source` (which must lie inside `spool_root`) to `dest`.

    `dest` is an existing directory (the file keeps its name) or the path of a new file.
    ExportError for a source outside the spool, not a regular file, or missing, and for a
    destination that exists; the copy gets mode 0600.
    """
    fd_in = _open_source(source, spool_root)
    with os.fdopen(fd_in, "rb") as reader:
        target = _target(dest, source.name)
        try:
            fd_out = os.open(
                target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600
            )
        except FileExistsError:
            raise ExportError(f"{target} already exists; not overwritten") from None
        except OSError as error:
            raise ExportError(f"{target}: {error.strerror or error}") from None
        digest = hashlib.sha256()
        try:
            os.fchmod(fd_out, 0o600)  # the mode given to open is reduced by the umask only
            with os.fdopen(fd_out, "wb") as writer:
                for block in iter(lambda: reader.read(_CHUNK), b""):
                    digest.update(block)
                    writer.write(block)
                writer.flush()
                os.fsync(writer.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
    return Exported(target, digest.hexdigest())


async def export(
    records: Records,
    recording_id: int,
    dest: Path,
    *,
    spool_dir: str | PurePath,
    spool_dir_local: str | Path,
) -> dict[str, object]:
    """Export recording `recording_id`, looked up in `records`, to `dest` (see `copy_recording`).

    `spool_dir` / `spool_dir_local`: the spool as Asterisk and as this process see it. Returns
    the recording's id, source and destination, the copy's sha256 and whether it matches the
    hash taken after the call (a mismatch means the file changed since).
    """
    recording = await records.get_recording(recording_id)
    if recording is None:
        raise ExportError(f"no recording {recording_id}")
    if recording["status"] == "purged":
        raise ExportError(f"recording {recording_id} was deleted on {recording['purged_at']}")
    try:
        source = stored_local_path(spool_dir, spool_dir_local, str(recording["path"]))
    except UnsafePath as error:
        raise ExportError(str(error)) from None
    copied = await asyncio.to_thread(copy_recording, source, Path(spool_dir_local), dest)
    return {
        "id": recording_id,
        "source": str(source),
        "dest": str(copied.path),
        "sha256": copied.sha256,
        "sha256_matches": copied.sha256 == recording["sha256"],
    }
