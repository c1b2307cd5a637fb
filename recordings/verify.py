"""Check a recording on disk after the call: is it there, how long is it, what is its hash.

Asterisk's MixMonitor writes 8 kHz 16-bit mono WAV. A file whose header cannot be read (cut
off, zero bytes, not a WAV) is not an error here: it counts as 0 seconds, which `status` then
reports as "truncated" for any call that talked longer than the tolerance.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

Status = Literal["ok", "missing", "truncated"]

_CHUNK = 1 << 16
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What was found at a recording's path.

    `format`: "wav" for a readable PCM WAV, "invalid" when the header cannot be read (or it
    is not a regular file), "unreadable" when the file exists but cannot be opened, "" when
    there is no file.
    `seconds` counts only the audio actually present, even if the header promises more.
    The sample layout fields are 0 unless the header was read.
    """

    exists: bool
    seconds: float
    size: int
    format: str
    sha256: str
    rate: int = 0
    channels: int = 0
    sample_width: int = 0  # bytes per sample: 2 for Asterisk's 16-bit


MISSING = Inspection(exists=False, seconds=0.0, size=0, format="", sha256="")


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(_CHUNK), b""):
        digest.update(block)
    return digest.hexdigest()


def _audio(handle: BinaryIO) -> tuple[float, int, int, int] | None:
    """(seconds present, rate, channels, sample width), or None for an unreadable header."""
    try:
        with wave.open(handle, "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frame = channels * width
            if rate <= 0 or frame <= 0:
                return None
            # readframes stops at the data chunk's end or the file's, whichever comes first.
            present = 0
            while block := wav.readframes(_CHUNK):
                present += len(block)
            return present // frame / rate, rate, channels, width
    except (wave.Error, EOFError, struct.error, ValueError, OverflowError):
        return None


def inspect(path: Path) -> Inspection:
    """Look at the file at `path`; never raises for a missing, short or corrupt file."""
    try:
        # Non-blocking, so a FIFO in the file's place cannot hang the check waiting for a writer.
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return MISSING
    except OSError:
        try:
            size = path.stat().st_size
        except OSError:
            return MISSING
        return Inspection(exists=True, seconds=0.0, size=size, format="unreadable", sha256="")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return Inspection(exists=True, seconds=0.0, size=0, format="invalid", sha256="")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        size = info.st_size
        try:
            sha256 = _sha256(handle)
            handle.seek(0)
            audio = _audio(handle)
        except OSError:
            return Inspection(exists=True, seconds=0.0, size=size, format="unreadable", sha256="")
    if audio is None:
        return Inspection(exists=True, seconds=0.0, size=size, format="invalid", sha256=sha256)
    seconds, rate, channels, width = audio
    return Inspection(
        exists=True,
        seconds=round(seconds, 3),
        size=size,
        format="wav",
        sha256=sha256,
        rate=rate,
        channels=channels,
        sample_width=width,
    )


def status(talk_seconds: float, inspection: Inspection, tolerance: float = 1.0) -> Status:
    """The recording's status: "missing" without a file, "truncated" if it is shorter than
    the talk time by more than `tolerance` seconds, else "ok".

    A recording longer than the talk is fine: it starts when the agent's leg answers, a little
    before the talk clock does.
    """
    if not inspection.exists:
        return "missing"
    if inspection.seconds + tolerance < talk_seconds:
        return "truncated"
    return "ok"
