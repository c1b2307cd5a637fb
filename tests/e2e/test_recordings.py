"""Every call recorded, found again for QA, paused for card details, listened to live by a
supervisor (issue: recording and supervision)."""

from __future__ import annotations

import array
import asyncio
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acd import lab
from acd.config import load_config
from acd.prompts import sound_name
from tests.e2e.conftest import AsteriskLog, EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password, record_of

pytestmark = pytest.mark.e2e


def on_disk(asterisk_path: str) -> Path:
    return lab.lab_root() / Path(asterisk_path).relative_to("/")


def loudness(path: Path, start: float, end: float) -> float:
    """Mean absolute sample value between two offsets (seconds) of an 8 kHz 16-bit file."""
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        wav.setpos(int(start * rate))
        frames = wav.readframes(int((end - start) * rate))
    samples = array.array("h", frames)
    return sum(abs(x) for x in samples) / max(1, len(samples))


def recordings_of(engine: EngineProcess, agent: str) -> list[dict[str, Any]]:
    rows = engine.cli("recordings", "find", "--agent", agent, "--from", "1h")
    assert isinstance(rows, list)
    return rows


async def test_a_call_leaves_a_recording_as_long_as_the_talk(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138401"
    log = AsteriskLog()
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=500, talk_ms=4000, audio=True
    ):
        await eventually(lambda: engine.agent("1001")["device"] == "NOT_INUSE")
        call = await place_call("100", caller, dtmf="1", max_ms=30000)
        assert call.ended_by == "remote", call.run.describe()
    row = await eventually(lambda: record_of(engine, caller))
    # The caller was told the call is recorded as they joined the queue.
    notice = sound_name(load_config(engine.conf), "recorded", "zh")
    assert f"Playing '{notice}" in log.new()
    (recording,) = await eventually(lambda: recordings_of(engine, "1001"))
    assert recording["call_id"] == row["call_id"]
    assert recording["status"] == "ok"
    assert abs(recording["seconds"] - row["talk_seconds"]) <= 1.0, (recording, row)
    assert recording["caller_masked"] != caller and recording["caller"] == caller
    path = on_disk(recording["path"])
    assert path.exists() and "agent1001" in path.name
    spool = lab.lab_root() / "var/spool/asterisk/acd"
    assert all(d.stat().st_mode & 0o007 == 0 for d in (spool, spool / "recordings"))
    assert loudness(path, 0.5, 3.0) > 100  # the conversation is in it
    # A file deleted behind our back is reported as missing, not silently ignored.
    path.unlink()
    with pytest.raises(AssertionError, match="failed"):  # `acd recordings check` exits 1
        engine.cli("recordings", "check")
    flagged = engine.cli("recordings", "find", "--flagged", "--agent", "1001", "--from", "1h")
    assert [(r["id"], r["status"]) for r in flagged] == [(recording["id"], "missing")]


async def test_a_paused_segment_is_silent_and_noted(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138402"
    # The agent presses *7 at 1.5 s (the caller reads card details) and *8 at 4.5 s.
    async with SippAgent(
        "1001",
        password(secrets, "1001"),
        answer_delay_ms=500,
        talk_ms=7000,
        audio=True,
        dtmf=[(1500, "*7"), (4500, "*8")],
    ):
        await eventually(lambda: engine.agent("1001")["device"] == "NOT_INUSE")
        call = await place_call("100", caller, dtmf="1", max_ms=30000)
        assert call.ended_by == "remote", call.run.describe()
    (recording,) = await eventually(lambda: recordings_of(engine, "1001"))
    ((start, end),) = recording["pauses"]
    assert 1.0 <= start <= 2.5 and 4.0 <= end <= 5.5, recording["pauses"]
    path = on_disk(recording["path"])
    # MixMonitor writes what the phones send, so the file's clock can run behind the call's;
    # look for the silent stretch itself: as long as the pause, with the voice on both sides.
    profile = [loudness(path, t / 4, (t + 1) / 4) for t in range(int(seconds_of(path) * 4))]
    quiet = longest_run(profile, lambda level: level < 5)
    assert quiet[1] - quiet[0] >= (end - start - 1.0) * 4, profile
    assert max(profile[: quiet[0]]) > 100 and max(profile[quiet[1] :]) > 100, profile


def seconds_of(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def longest_run(values: list[float], test: Callable[[float], bool]) -> tuple[int, int]:
    """[start, end) of the longest run of values passing `test`."""
    best, start = (0, 0), None
    for i, value in enumerate([*values, None]):
        if value is not None and test(value):
            start = i if start is None else start
        elif start is not None:
            best = max(best, (start, i), key=lambda run: run[1] - run[0])
            start = None
    return best


async def test_a_supervisor_listens_to_a_live_call(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138403"
    started = time.time()
    async with (
        SippAgent("1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=9000, audio=True),
        SippAgent("1090", password(secrets, "1090"), answer_delay_ms=200) as supervisor,
    ):
        await eventually(
            lambda: all(engine.agent(a)["device"] == "NOT_INUSE" for a in ("1001", "1090"))
        )
        task = asyncio.create_task(place_call("100", caller, dtmf="1", max_ms=30000))
        await eventually(lambda: engine.agent("1001")["state"] == "on-call")
        # Only supervisors may listen.
        with pytest.raises(AssertionError, match="not a supervisor"):
            engine.cli("supervise", "listen", "1001", "--from", "1002")
        engine.cli("supervise", "listen", "1001", "--from", "1090")
        call = await task
        assert call.ended_by == "remote", call.run.describe()
        assert supervisor.answered_count() == 1
    spool = lab.lab_root() / "var/spool/asterisk/acd/supervision"
    (leg,) = await eventually(
        lambda: [p for p in spool.rglob("*_1090_1001.wav") if p.stat().st_mtime >= started]
    )
    seconds = seconds_of(leg)
    assert seconds >= 3.0
    assert loudness(leg, 0.5, seconds - 0.5) > 100  # the supervisor heard the call
