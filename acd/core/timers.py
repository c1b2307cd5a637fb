"""The core's timers: what is due when, typed, in one heap.

A timer names its kind, its subject (an agent number or a call id) and the subject's token
when it was set. Subjects bump their token whenever what a timer was for is over (an agent
changes state, a call is re-checked or re-armed), so a timer that went stale is not removed
from the heap but skipped when it comes up: cheaper than finding it, and just as exact.
Whether a timer is still live is the owner's knowledge (it holds the agents and calls), so it
is handed in as a predicate.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import NamedTuple


class TimerKind(StrEnum):
    WRAPUP = "wrapup"  # an agent's wrap-up is over
    RING = "ring"  # an offer rang past its timeout and Asterisk never said so
    CHECK = "check"  # a waiting call reaches its next expansion step or its max wait
    ANNOUNCE = "announce"  # a waiting caller is told their position

    @property
    def of_agent(self) -> bool:
        """The subject is an agent number (else a call id)."""
        return self in (TimerKind.WRAPUP, TimerKind.RING)


class Timer(NamedTuple):
    at: float
    seq: int  # ties at the same time fire in the order they were set
    kind: TimerKind
    subject: str  # agent number or call id, see `TimerKind.of_agent`
    token: int  # the subject's token when set; another token now: stale


class Timers:
    """Every armed timer, soonest first; `live` says whether one still matters."""

    def __init__(self, seq: Iterator[int], live: Callable[[Timer], bool]) -> None:
        self._heap: list[Timer] = []
        self._seq = seq
        self._live = live

    def set(self, at: float, kind: TimerKind, subject: str, token: int) -> None:
        heapq.heappush(self._heap, Timer(at, next(self._seq), kind, subject, token))

    def due(self, now: float) -> Iterator[Timer]:
        """The live timers due by `now`, soonest first, each taken off as it is yielded.

        Lazy on purpose: what a fired timer sets (a wrap-up of zero seconds) is due now too
        and comes up in the same pass.
        """
        heap = self._heap
        while heap and heap[0].at <= now:
            timer = heapq.heappop(heap)
            if self._live(timer):
                yield timer

    def next_at(self) -> float | None:
        """When the soonest live timer is due (None: none armed); drops stale ones on top."""
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0].at if heap else None
