"""A migrated records database and a spool with real WAV files, both in tmp_path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.core.decisions import CallRecord
from acd.records.items import RecordingMade, SurveyScore
from acd.records.migrate import upgrade_async
from acd.records.writer import RecordWriter
from recordings.naming import recording_relpath
from tests.unit.recordings.wavs import write_wav

#: How Asterisk sees the spool; the tests' spool_dir_local is a tmp folder.
ASTERISK_SPOOL = "/var/spool/asterisk/acd"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = 86400.0


@dataclass
class Spool:
    root: Path  # spool_dir_local

    def add(self, call_id: str, agent: str, started_at: float, seconds: float = 0.5) -> str:
        """Write a WAV where Asterisk would; returns the path as Asterisk names it."""
        relpath = recording_relpath(datetime.fromtimestamp(started_at, tz=UTC), call_id, agent)
        local = self.root / relpath
        local.parent.mkdir(parents=True, exist_ok=True)
        write_wav(local, seconds)
        return f"{ASTERISK_SPOOL}/{relpath}"

    def local(self, asterisk_path: str) -> Path:
        return self.root / asterisk_path.removeprefix(ASTERISK_SPOOL + "/")


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    root = tmp_path / "spool"
    root.mkdir()
    return Spool(root)


@pytest.fixture
async def url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    await upgrade_async(url)
    return url


def made(
    call_id: str,
    path: str,
    started_at: float,
    agent: str = "2001",
    caller: str = "13800138000",
    queue: str = "sales",
    status: str = "ok",
    seconds: float = 0.5,
) -> RecordingMade:
    return RecordingMade(
        call_id=call_id,
        agent=agent,
        caller=caller,
        queue=queue,
        path=path,
        started_at=started_at,
        talk_seconds=seconds,
        seconds=seconds,
        size=44 + int(seconds * 16000),
        format="wav",
        sha256="0" * 64,
        status=status,
        pauses=((0.1, 0.2),),
    )


def call(call_id: str, at: float, agent: str = "2001", caller: str = "13800138000") -> CallRecord:
    return CallRecord(
        call_id=call_id,
        caller=caller,
        hotline="1900",
        queue="sales",
        entered_at=at,
        agent=agent,
        answered_at=at + 5,
        ended_at=at + 65,
        disposition="answered",
        hangup_side="agent",
        offers=1,
    )


def dissatisfied(call_id: str, at: float, due_in: float = 7200.0) -> SurveyScore:
    return SurveyScore(
        call_id, score=1, scale=5, dissatisfied=True, at=at, review_due_at=at + due_in
    )


async def write(url: str, items: Iterable[CallRecord | RecordingMade | SurveyScore]) -> None:
    writer = RecordWriter(url)
    await writer.start()
    for item in items:
        writer.submit(item)
    await writer.close()
