"""One clock for every timer in the engine.

Rules like "8 waiting for 30 minutes" must be testable in seconds, so nothing in the core reads
the wall clock: it is handed `now` by whoever drives it, and the adapters get that `now` from a
`Clock`. Tests use `ManualClock` and move time by hand.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to; for tests and simulation."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds


def to_datetime(ts: float) -> datetime:
    """Epoch seconds to an aware UTC datetime: records are always timezone-aware."""
    return datetime.fromtimestamp(ts, tz=UTC)
