"""Small real WAV files, made with the stdlib `wave` module like Asterisk's 8 kHz 16-bit mono."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000


def write_wav(path: Path, seconds: float, rate: int = RATE, channels: int = 1) -> Path:
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(frames))
    data = b"".join(struct.pack("<h", s) * channels for s in samples)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data)
    return path
