"""Recording file names and the spool mapping: readable, dated, and no way out of the spool."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

import pytest

from recordings.naming import (
    UnsafePath,
    inside,
    local_path,
    recording_relpath,
    safe_field,
    stored_local_path,
)

STARTED = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
SPOOL = "/var/spool/asterisk/acd"


def test_dated_layout_with_time_agent_and_call() -> None:
    assert recording_relpath(STARTED, "1700000000.12", "2001") == (
        "recordings/2023/11/14/20231114-221320_agent2001_1700000000.12.wav"
    )


def test_time_is_filed_in_utc() -> None:
    shanghai = STARTED.astimezone(timezone(timedelta(hours=8)))  # 06:13 the next day there
    assert recording_relpath(shanghai, "c1", "2001") == recording_relpath(STARTED, "c1", "2001")


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        recording_relpath(datetime(2023, 11, 14, 22, 13, 20), "c1", "2001")


@pytest.mark.parametrize(
    ("call_id", "agent"),
    [
        ("../../../etc/passwd", "2001"),
        ("c1", "../../root"),
        ("/abs/olute", "20/01"),
        ("..", "."),
        ("", ""),
        ("a b;rm -rf *", "$(id)"),
        ("c1\x00.wav", "2001\n"),
        ("x_agent9_y", "1_2"),
        ("通话", "坐席"),
    ],
)
def test_unsafe_ids_cannot_leave_the_days_folder(call_id: str, agent: str) -> None:
    relpath = recording_relpath(STARTED, call_id, agent)
    parts = PurePosixPath(relpath).parts
    assert parts[:4] == ("recordings", "2023", "11", "14")
    assert len(parts) == 5
    name = parts[4]
    assert name.endswith(".wav") and ".." not in parts
    stamp, agent_field, call_field = name[: -len(".wav")].split("_")
    assert stamp == "20231114-221320"
    assert agent_field.startswith("agent")
    assert set(agent_field + call_field) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
    )
    # And the mapped path stays in the spool.
    local = local_path(SPOOL, "/srv/spool", f"{SPOOL}/{relpath}")
    assert local.is_relative_to("/srv/spool")


def test_safe_values_are_kept_and_changed_ones_stay_distinct() -> None:
    assert safe_field("1700000000.12") == "1700000000.12"
    assert safe_field("2001") == "2001"
    a, b = safe_field("a/b"), safe_field("a:b")
    assert a != b and a.startswith("a-b-") and b.startswith("a-b-")
    assert safe_field("") != safe_field("none") == "none"
    assert safe_field("..") not in ("..", ".", "")
    long = safe_field("x" * 300)
    assert len(long) <= 71 and long != safe_field("x" * 299)


def test_local_path_maps_the_asterisk_side_to_the_engine_side(tmp_path: Path) -> None:
    relpath = recording_relpath(STARTED, "c1", "2001")
    assert local_path(SPOOL, tmp_path, f"{SPOOL}/{relpath}") == tmp_path / relpath
    # Path objects and a trailing slash on the spool work too.
    assert local_path(Path(SPOOL), tmp_path, PurePosixPath(SPOOL) / relpath) == tmp_path / relpath
    assert local_path(SPOOL + "/", tmp_path, f"{SPOOL}//{relpath}") == tmp_path / relpath


@pytest.mark.parametrize(
    "path",
    [
        f"{SPOOL}/../../../etc/passwd",
        f"{SPOOL}/recordings/../../secret.wav",
        "/etc/passwd",
        "/var/spool/asterisk/acd-other/x.wav",  # a sibling with the spool's name as prefix
        "/var/spool/asterisk/x.wav",
        "recordings/2023/x.wav",  # relative: not as Asterisk names files
        SPOOL,
        f"{SPOOL}/x\x00.wav",
    ],
)
def test_local_path_rejects_anything_outside_the_spool(path: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePath):
        local_path(SPOOL, tmp_path, path)
    assert issubclass(UnsafePath, ValueError)


def test_stored_paths_may_be_relative_to_the_spool(tmp_path: Path) -> None:
    relpath = recording_relpath(STARTED, "c1", "2001")
    assert stored_local_path(SPOOL, tmp_path, relpath) == tmp_path / relpath
    assert stored_local_path(SPOOL, tmp_path, f"{SPOOL}/{relpath}") == tmp_path / relpath
    for bad in ("../x.wav", "recordings/../../x.wav", "", "/etc/passwd", "a\x00b"):
        with pytest.raises(UnsafePath):
            stored_local_path(SPOOL, tmp_path, bad)


def test_inside_sees_through_symlinks(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    outside = tmp_path / "outside"
    (spool / "recordings").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, spool / "recordings" / "2023")
    os.symlink(spool / "recordings", spool / "alias")
    assert inside(spool, spool / "recordings" / "a.wav")
    assert inside(spool, spool / "alias" / "a.wav")  # a link that stays inside is fine
    assert not inside(spool, spool / "recordings" / "2023" / "a.wav")
    loop = spool / "loop"
    os.symlink(loop, loop)
    assert isinstance(inside(spool, loop / "x"), bool)  # a symlink loop does not raise
