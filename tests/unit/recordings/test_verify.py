"""Checking recordings on disk with real WAV files, including broken ones."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from recordings.verify import MISSING, Inspection, inspect, status
from tests.unit.recordings.wavs import RATE, write_wav


def test_a_good_recording(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "call.wav", 2.5)
    found = inspect(path)
    assert found.exists
    assert found.seconds == pytest.approx(2.5)
    assert found.size == path.stat().st_size == 44 + 2.5 * RATE * 2
    assert found.format == "wav"
    assert found.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (found.rate, found.channels, found.sample_width) == (8000, 1, 2)
    assert status(2.5, found) == "ok"
    assert status(3.4, found) == "ok"  # within the 1 s tolerance
    assert status(3.6, found) == "truncated"
    assert status(3.6, found, tolerance=2.0) == "ok"


def test_other_layouts_are_measured_too(tmp_path: Path) -> None:
    found = inspect(write_wav(tmp_path / "stereo.wav", 1.0, rate=16000, channels=2))
    assert found.seconds == pytest.approx(1.0)
    assert (found.rate, found.channels) == (16000, 2)


def test_missing_file(tmp_path: Path) -> None:
    found = inspect(tmp_path / "nope.wav")
    assert found == MISSING
    assert (found.exists, found.seconds, found.size, found.format, found.sha256) == (
        False,
        0.0,
        0,
        "",
        "",
    )
    assert status(10.0, found) == "missing"
    assert status(0.0, found) == "missing"


def test_data_cut_short_counts_only_what_is_there(tmp_path: Path) -> None:
    """The header promises 4 s but the copy stopped after about 1 s of audio."""
    path = write_wav(tmp_path / "call.wav", 4.0)
    path.write_bytes(path.read_bytes()[: 44 + RATE * 2])
    found = inspect(path)
    assert found.exists and found.format == "wav"
    assert found.seconds == pytest.approx(1.0)
    assert status(4.0, found) == "truncated"


@pytest.mark.parametrize("keep", [0, 4, 12, 20, 30, 43])
def test_truncated_header_is_zero_seconds_not_a_crash(tmp_path: Path, keep: int) -> None:
    path = write_wav(tmp_path / "call.wav", 1.0)
    content = path.read_bytes()[:keep]
    path.write_bytes(content)
    found = inspect(path)
    assert found.exists
    assert found.seconds == 0.0
    assert found.size == keep
    assert found.sha256 == hashlib.sha256(content).hexdigest()
    assert status(5.0, found) == "truncated"
    assert status(0.5, found) == "ok"  # nothing was said worth a recording anyway


def test_not_a_wav_at_all(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(b"ID3\x03\x00 this is an mp3, or noise" * 100)
    found = inspect(path)
    assert (found.exists, found.seconds, found.format) == (True, 0.0, "invalid")


def test_a_directory_or_pipe_in_the_files_place_does_not_crash_or_hang(tmp_path: Path) -> None:
    (tmp_path / "call.wav").mkdir()
    os.mkfifo(tmp_path / "pipe.wav")
    for name in ("call.wav", "pipe.wav"):
        found = inspect(tmp_path / name)
        assert (found.exists, found.seconds, found.format) == (True, 0.0, "invalid")
        assert status(3.0, found) == "truncated"


def test_a_file_that_cannot_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_wav(tmp_path / "call.wav", 1.0)
    real_open = os.open

    def refuse(target: object, *args: object, **kwargs: object) -> int:
        if Path(str(target)) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    found = inspect(path)
    assert (found.exists, found.seconds, found.format, found.size) == (
        True,
        0.0,
        "unreadable",
        path.stat().st_size,
    )


def test_inspection_is_a_plain_value() -> None:
    found = Inspection(exists=True, seconds=1.0, size=60, format="wav", sha256="ab")
    assert found.rate == 0 and found == Inspection(True, 1.0, 60, "wav", "ab")
