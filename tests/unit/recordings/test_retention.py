"""Retention: what is due, and files deleted strictly before their rows are marked."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from acd.records.store import Records
from recordings import retention
from recordings.retention import Candidate, cutoff, plan, purge
from tests.unit.recordings.conftest import ASTERISK_SPOOL, DAY, NOW, Spool, made, write


async def purge_in(url: str, *args: Any, **kw: Any) -> list[retention.PurgeItem]:
    """`purge` on the records at `url`, through one Records opened and closed here."""
    async with Records(url) as records:
        return await purge(records, *args, **kw)


OLD = (NOW - timedelta(days=400)).timestamp()
RECENT = (NOW - timedelta(days=10)).timestamp()


def test_plan_picks_old_unpurged_rows_oldest_first() -> None:
    rows = [
        (1, "a.wav", NOW - timedelta(days=366), "ok"),
        (2, "b.wav", NOW - timedelta(days=500), "truncated"),
        (3, "c.wav", NOW - timedelta(days=364), "ok"),  # still kept
        (4, "d.wav", NOW - timedelta(days=900), "purged"),  # done before
        (5, "e.wav", NOW - timedelta(days=365), "missing"),  # exactly at the cutoff: kept
        Candidate(6, "f.wav", NOW - timedelta(days=365, seconds=1), "missing"),
    ]
    assert [row.id for row in plan(rows, NOW, 365)] == [2, 1, 6]
    assert plan([], NOW, 365) == []
    assert cutoff(NOW, 30) == NOW - timedelta(days=30)


def test_plan_refuses_naive_now_and_no_retention() -> None:
    with pytest.raises(ValueError):
        plan([], datetime(2026, 11, 24), 365)
    with pytest.raises(ValueError):
        plan([], NOW, 0)


def _rows(db: Path) -> list[tuple[int, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, status, purged_at FROM recordings ORDER BY id").fetchall()


@pytest.fixture
async def seeded(url: str, spool: Spool) -> tuple[str, list[str]]:
    paths = [
        spool.add("old1", "2001", OLD),
        spool.add("old2", "2002", OLD + DAY),
        spool.add("new1", "2001", RECENT),
    ]
    await write(
        url,
        [
            made("old1", paths[0], OLD),
            made("old2", paths[1], OLD + DAY, agent="2002"),
            made("new1", paths[2], RECENT),
        ],
    )
    return url, paths


def _db(url: str) -> Path:
    return Path(url.removeprefix("sqlite+aiosqlite:///"))


async def test_dry_run_lists_and_changes_nothing(
    seeded: tuple[str, list[str]], spool: Spool
) -> None:
    url, paths = seeded
    items = await purge_in(url, spool.root, 365, NOW, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action) for i in items] == [(1, "would-delete"), (2, "would-delete")]
    assert items[0].local_path == str(spool.local(paths[0]))
    assert items[0].as_dict()["started_at"] == datetime.fromtimestamp(OLD, tz=UTC).isoformat()
    assert all(spool.local(p).exists() for p in paths)
    assert [status for _, status, _ in _rows(_db(url))] == ["ok", "ok", "ok"]


async def test_purge_deletes_files_then_marks_rows(
    seeded: tuple[str, list[str]], spool: Spool
) -> None:
    url, paths = seeded
    items = await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action, i.error) for i in items] == [
        (1, "deleted", None),
        (2, "deleted", None),
    ]
    assert not spool.local(paths[0]).exists() and not spool.local(paths[1]).exists()
    assert spool.local(paths[2]).exists()
    rows = _rows(_db(url))
    assert [(i, s) for i, s, _ in rows] == [(1, "purged"), (2, "purged"), (3, "ok")]
    assert rows[0][2] == NOW.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    # A second run finds nothing to do.
    assert await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL) == []


async def test_each_row_is_marked_only_after_its_file_is_gone(
    seeded: tuple[str, list[str]], spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, paths = seeded
    events: list[tuple[str, object]] = []
    real_delete, real_mark = retention._delete_file, retention._mark

    def delete(path: Path) -> str:
        events.append(("delete", path.name))
        return real_delete(path)

    async def mark(conn: object, recording_id: int, now: datetime) -> None:
        local = spool.local(paths[recording_id - 1])
        assert not local.exists(), "row marked while its file is still there"
        events.append(("mark", recording_id))
        await real_mark(conn, recording_id, now)  # type: ignore[arg-type]

    monkeypatch.setattr(retention, "_delete_file", delete)
    monkeypatch.setattr(retention, "_mark", mark)
    await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert events == [
        ("delete", spool.local(paths[0]).name),
        ("mark", 1),
        ("delete", spool.local(paths[1]).name),
        ("mark", 2),
    ]


async def test_a_failed_delete_leaves_the_row_unmarked(
    seeded: tuple[str, list[str]], spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, paths = seeded
    real_delete = retention._delete_file

    def delete(path: Path) -> str:
        if path == spool.local(paths[0]):
            raise PermissionError(13, "Permission denied", str(path))
        return real_delete(path)

    monkeypatch.setattr(retention, "_delete_file", delete)
    items = await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action) for i in items] == [(1, "failed"), (2, "deleted")]
    assert items[0].error == "PermissionError: Permission denied"
    assert spool.local(paths[0]).exists()
    assert [(i, s, p is None) for i, s, p in _rows(_db(url))] == [
        (1, "ok", True),
        (2, "purged", False),
        (3, "ok", True),
    ]
    # Fixed, the next run deletes and marks it.
    monkeypatch.setattr(retention, "_delete_file", real_delete)
    items = await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action) for i in items] == [(1, "deleted")]


async def test_a_file_already_gone_is_still_marked(
    seeded: tuple[str, list[str]], spool: Spool
) -> None:
    url, paths = seeded
    spool.local(paths[0]).unlink()
    dry = await purge_in(url, spool.root, 365, NOW, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action) for i in dry] == [(1, "would-mark"), (2, "would-delete")]
    items = await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action) for i in items] == [(1, "already-gone"), (2, "deleted")]
    assert [s for _, s, _ in _rows(_db(url))] == ["purged", "purged", "ok"]


async def test_paths_outside_the_spool_are_never_touched(
    url: str, spool: Spool, tmp_path: Path
) -> None:
    victim_dir = tmp_path / "victim"
    victim_dir.mkdir()
    victim = victim_dir / "precious.wav"
    victim.write_bytes(b"keep me")
    # A folder inside the spool that is a link to somewhere else.
    (spool.root / "recordings").mkdir()
    os.symlink(victim_dir, spool.root / "recordings" / "2025")
    await write(
        url,
        [
            made("x1", f"{ASTERISK_SPOOL}/../../../{victim}", OLD),
            made("x2", str(victim), OLD),
            made("x3", f"{ASTERISK_SPOOL}/recordings/2025/precious.wav", OLD),
        ],
    )
    items = await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert [(i.id, i.action) for i in items] == [(1, "unsafe"), (2, "unsafe"), (3, "unsafe")]
    assert all(i.error for i in items)
    assert victim.read_bytes() == b"keep me"
    assert [s for _, s, _ in _rows(_db(url))] == ["ok", "ok", "ok"]


async def test_a_symlinked_file_is_removed_not_its_target(
    url: str, spool: Spool, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.wav"
    target.write_bytes(b"not ours")
    path = spool.add("l1", "2001", OLD)
    spool.local(path).unlink()
    os.symlink(target, spool.local(path))
    await write(url, [made("l1", path, OLD)])
    items = await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    assert [i.action for i in items] == ["deleted"]
    assert not spool.local(path).is_symlink() and not spool.local(path).exists()
    assert target.read_bytes() == b"not ours"


async def test_same_spool_on_both_sides_and_relative_paths(url: str, spool: Spool) -> None:
    """Without spool_dir the stored paths are the engine's own (Asterisk on the same host)."""
    local = spool.local(spool.add("s1", "2001", OLD))
    relative = spool.add("s2", "2001", OLD).removeprefix(ASTERISK_SPOOL + "/")
    await write(url, [made("s1", str(local), OLD), made("s2", relative, OLD)])
    items = await purge_in(url, str(spool.root), 365, NOW, dry_run=False)
    assert [i.action for i in items] == ["deleted", "deleted"]
    assert not local.exists() and not (spool.root / relative).exists()


async def test_a_mark_failure_stops_the_run(seeded: tuple[str, list[str]], spool: Spool) -> None:
    url, paths = seeded
    engine = create_engine(f"sqlite:///{_db(url)}")
    with engine.begin() as conn:  # a row the database refuses to change
        conn.execute(
            text(
                "CREATE TRIGGER no_purge BEFORE UPDATE ON recordings WHEN OLD.id = 1 "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    engine.dispose()
    with pytest.raises(Exception, match="refused"):
        await purge_in(url, spool.root, 365, NOW, dry_run=False, spool_dir=ASTERISK_SPOOL)
    # The first file went, its row could not be marked, and nothing after it was touched.
    assert not spool.local(paths[0]).exists()
    assert spool.local(paths[1]).exists()
    assert [s for _, s, _ in _rows(_db(url))] == ["ok", "ok", "ok"]
