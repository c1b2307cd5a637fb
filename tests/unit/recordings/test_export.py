"""Exporting recordings: only regular files inside the spool, never overwriting, owner-only."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from acd.records.store import Records
from recordings.export import ExportError, copy_recording, export
from tests.unit.recordings.conftest import ASTERISK_SPOOL, NOW, Spool, made, write
from tests.unit.recordings.wavs import write_wav

T0 = NOW.timestamp() - 3600


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _empty(folder: Path) -> bool:
    return not any(folder.iterdir())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_copy_into_a_directory_keeps_the_name(
    spool: Spool, out: Path, permissive_umask: None
) -> None:
    source = spool.local(spool.add("c1", "2001", T0, seconds=1.0))
    copied = copy_recording(source, spool.root, out)
    assert copied.path == out / source.name
    assert copied.path.read_bytes() == source.read_bytes()
    assert copied.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert _mode(copied.path) == 0o600


def test_copy_to_a_new_file_name(spool: Spool, out: Path) -> None:
    source = spool.local(spool.add("c1", "2001", T0))
    copied = copy_recording(source, spool.root, out / "for-training.wav")
    assert copied.path == out / "for-training.wav"
    assert _mode(copied.path) == 0o600


def test_never_overwrites(spool: Spool, out: Path) -> None:
    source = spool.local(spool.add("c1", "2001", T0))
    existing = out / source.name
    existing.write_bytes(b"someone's file")
    with pytest.raises(ExportError, match="already exists"):
        copy_recording(source, spool.root, out)
    with pytest.raises(ExportError, match="already exists"):
        copy_recording(source, spool.root, existing)
    assert existing.read_bytes() == b"someone's file"


def test_never_writes_through_a_link_at_the_destination(
    spool: Spool, out: Path, tmp_path: Path
) -> None:
    source = spool.local(spool.add("c1", "2001", T0))
    dangling = out / "new.wav"
    os.symlink(tmp_path / "would-be-created.wav", dangling)
    with pytest.raises(ExportError):
        copy_recording(source, spool.root, dangling)
    assert not (tmp_path / "would-be-created.wav").exists()


def test_missing_destination_folder_is_an_export_error(spool: Spool, tmp_path: Path) -> None:
    source = spool.local(spool.add("c1", "2001", T0))
    with pytest.raises(ExportError):
        copy_recording(source, spool.root, tmp_path / "no" / "such" / "dir" / "x.wav")


def test_source_outside_the_spool_is_refused(spool: Spool, out: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.wav"
    write_wav(secret, 0.1)
    with pytest.raises(ExportError, match="outside the spool"):
        copy_recording(secret, spool.root, out)
    with pytest.raises(ExportError, match=r"'\.\.'"):
        copy_recording(spool.root / ".." / "secret.wav", spool.root, out)
    assert _empty(out)


def test_symlink_escapes_are_refused(spool: Spool, out: Path, tmp_path: Path) -> None:
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    write_wav(secret_dir / "secret.wav", 0.1)
    # The file is a link out of the spool.
    os.symlink(secret_dir / "secret.wav", spool.root / "link.wav")
    with pytest.raises(ExportError, match="outside the spool"):
        copy_recording(spool.root / "link.wav", spool.root, out)
    # A folder in the spool is a link out of it.
    os.symlink(secret_dir, spool.root / "recordings")
    with pytest.raises(ExportError, match="outside the spool"):
        copy_recording(spool.root / "recordings" / "secret.wav", spool.root, out)
    assert _empty(out)


def test_a_link_that_stays_inside_is_fine(spool: Spool, out: Path) -> None:
    source = spool.local(spool.add("c1", "2001", T0))
    os.symlink(source, spool.root / "alias.wav")
    copied = copy_recording(spool.root / "alias.wav", spool.root, out)
    assert copied.path == out / "alias.wav"
    assert copied.path.read_bytes() == source.read_bytes()


def test_only_regular_files(spool: Spool, out: Path) -> None:
    (spool.root / "folder.wav").mkdir()
    with pytest.raises(ExportError, match="not a regular file"):
        copy_recording(spool.root / "folder.wav", spool.root, out / "x.wav")
    os.mkfifo(spool.root / "pipe.wav")
    with pytest.raises(ExportError, match="not a regular file"):
        copy_recording(spool.root / "pipe.wav", spool.root, out / "y.wav")
    with pytest.raises(ExportError, match="no such file"):
        copy_recording(spool.root / "nope.wav", spool.root, out)
    assert _empty(out)


async def test_export_by_recording_id(url: str, spool: Spool, out: Path) -> None:
    path = spool.add("c1", "2001", T0, seconds=1.0)
    local = spool.local(path)
    digest = hashlib.sha256(local.read_bytes()).hexdigest()
    await write(url, [replace(made("c1", path, T0), sha256=digest), made("c2", path, T0)])

    async with Records(url) as records:
        done = await export(records, 1, out, spool_dir=ASTERISK_SPOOL, spool_dir_local=spool.root)
        assert done == {
            "id": 1,
            "source": str(local),
            "dest": str(out / local.name),
            "sha256": digest,
            "sha256_matches": True,
        }
        # Recording 2 names the same file but recorded another hash: the copy says so.
        done = await export(
            records, 2, out / "second.wav", spool_dir=ASTERISK_SPOOL, spool_dir_local=spool.root
        )
        assert done["sha256_matches"] is False

        with pytest.raises(ExportError, match="no recording 9"):
            await export(records, 9, out, spool_dir=ASTERISK_SPOOL, spool_dir_local=spool.root)


async def test_export_refuses_purged_and_unsafe_rows(url: str, spool: Spool, out: Path) -> None:
    await write(
        url,
        [
            made("p1", spool.add("p1", "2001", T0), T0, status="purged"),
            made("u1", f"{ASTERISK_SPOOL}/../../../etc/passwd", T0),
        ],
    )
    async with Records(url) as records:
        with pytest.raises(ExportError, match="deleted"):
            await export(records, 1, out, spool_dir=ASTERISK_SPOOL, spool_dir_local=spool.root)
        with pytest.raises(ExportError, match=r"'\.\.'"):
            await export(records, 2, out, spool_dir=ASTERISK_SPOOL, spool_dir_local=spool.root)
    assert _empty(out)
