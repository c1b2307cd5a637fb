"""The queue_log file: appended in batches off the loop, owner-only, never holding up callers."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from acd.records.queue_log import QueueLogWriter

LINES = ["1700000000|c1|general|NONE|ENTERQUEUE||13800138000|1", "1700000015|c1|general|NONE|X|"]


async def test_lines_are_appended_in_order_to_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "queue_log"
    writer = QueueLogWriter(path, flush_interval=0.01)
    await writer.start()
    writer.write(LINES[:1])
    writer.write(LINES[1:])
    await writer.close()
    assert path.read_text(encoding="utf-8").splitlines() == LINES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_an_existing_file_is_appended_to_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("1699999999|NONE|NONE|NONE|QUEUESTART|\n", encoding="utf-8")
    writer = QueueLogWriter(path, flush_interval=0.01)
    await writer.start()
    writer.write(LINES)
    await writer.close()
    assert path.read_text(encoding="utf-8").splitlines()[1:] == LINES


async def test_write_only_buffers_the_file_is_written_by_the_task(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    writer = QueueLogWriter(path, flush_interval=60)
    await writer.start()
    writer.write(LINES)
    assert writer.pending == 2 and not path.exists()  # nothing touched the disk on the loop
    await writer.close()  # closing writes what is buffered without waiting the interval
    assert path.read_text(encoding="utf-8").splitlines() == LINES


async def test_a_rotated_file_is_recreated_by_the_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    writer = QueueLogWriter(path, flush_interval=0.01)
    await writer.start()
    writer.write(LINES[:1])
    for _ in range(500):
        if path.exists():
            break
        await asyncio.sleep(0.01)
    path.rename(tmp_path / "queue_log.1")  # logrotate
    writer.write(LINES[1:])
    await writer.close()
    assert path.read_text(encoding="utf-8").splitlines() == LINES[1:]


async def test_a_refusing_disk_keeps_the_lines_and_drops_the_oldest_past_the_bound(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("", encoding="utf-8")  # the log's "directory" is a file: writes fail
    writer = QueueLogWriter(blocked / "queue_log", flush_interval=0.01, max_buffered=2)
    await writer.start()
    writer.write(["a", "b", "c"])
    assert writer.dropped == 1
    await writer.close(timeout=0.1)
    assert writer.pending == 2


def test_none_disables_it_and_a_relative_path_is_under_the_state_dir(tmp_path: Path) -> None:
    assert QueueLogWriter.from_setting(None, tmp_path) is None
    writer = QueueLogWriter.from_setting("queue_log", tmp_path)
    assert writer is not None and writer.path == tmp_path / "queue_log"
    elsewhere = QueueLogWriter.from_setting("/var/log/acd/queue_log", tmp_path)
    assert elsewhere is not None and elsewhere.path == Path("/var/log/acd/queue_log")


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        QueueLogWriter(tmp_path / "q", flush_interval=0)
