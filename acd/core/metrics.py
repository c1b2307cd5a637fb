"""Queue metrics the rules watch: how many wait, for how long, and how well calls were served.

Pure and clock-free like the rest of the core: every value is computed for a `now` it is
handed. A snapshot (`QueueMetrics`) holds what is constant between two events; the one value
that grows by itself, the longest wait, is kept as the oldest caller's arrival time so that a
rule can work out exactly when a threshold will be crossed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: The scope of centre-wide metrics and rules: callers in every queue.
CENTRE = "*"
#: The service-level window when a rule names none: the seeds' peak plan thinks in half hours.
DEFAULT_WINDOW_SECONDS = 1800.0


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Calls that stopped waiting within the last `window_seconds`, answered or given up.

    "In target" means waited no longer than the queue's `service_level_seconds`. The service
    level is the share of counted calls answered in target; a caller who gave up before the
    target passed is not counted (they left before the promise was broken), one who gave up
    later counts against it. `changes_at` is when the oldest counted call leaves the window,
    the next time the counts change without an event.
    """

    window_seconds: float
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    abandoned_in_target: int = 0
    changes_at: float | None = None

    @property
    def service_level(self) -> float | None:
        counted = self.answered + self.abandoned - self.abandoned_in_target
        return None if counted == 0 else self.answered_in_target / counted

    def plus(self, other: WindowCounts) -> WindowCounts:
        """Both queues' calls together: each was already judged against its own target."""
        if other.window_seconds != self.window_seconds:
            raise ValueError("cannot add counts over different windows")
        return WindowCounts(
            window_seconds=self.window_seconds,
            answered=self.answered + other.answered,
            answered_in_target=self.answered_in_target + other.answered_in_target,
            abandoned=self.abandoned + other.abandoned,
            abandoned_in_target=self.abandoned_in_target + other.abandoned_in_target,
            changes_at=_earliest(self.changes_at, other.changes_at),
        )


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """One queue (or the centre, scope "*") as the rules see it at an instant.

    `windows` carries the service-level counts over each window the rules ask for
    (`RuleBook.service_windows()`); `answered`, `abandoned` and `service_level` read the first.
    """

    waiting: int = 0
    oldest_entered_at: float | None = None
    ready_agents: int = 0
    windows: tuple[WindowCounts, ...] = ()

    def longest_wait(self, now: float) -> float:
        return 0.0 if self.oldest_entered_at is None else now - self.oldest_entered_at

    def window(self, seconds: float) -> WindowCounts | None:
        for counts in self.windows:
            if counts.window_seconds == seconds:
                return counts
        return None

    @property
    def answered(self) -> int:
        return self.windows[0].answered if self.windows else 0

    @property
    def abandoned(self) -> int:
        return self.windows[0].abandoned if self.windows else 0

    @property
    def service_level(self) -> float | None:
        return self.windows[0].service_level if self.windows else None


def combine(queues: Iterable[QueueMetrics], ready_agents: int) -> QueueMetrics:
    """The centre-wide metrics ("*") from every queue's.

    `ready_agents` comes from the caller: an agent with several skills is ready in several
    queues, so the queues' counts cannot simply be added.
    """
    waiting = 0
    oldest: float | None = None
    windows: dict[float, WindowCounts] = {}
    for metrics in queues:
        waiting += metrics.waiting
        oldest = _earliest(oldest, metrics.oldest_entered_at)
        for counts in metrics.windows:
            seen = windows.get(counts.window_seconds)
            windows[counts.window_seconds] = counts if seen is None else seen.plus(counts)
    return QueueMetrics(
        waiting=waiting,
        oldest_entered_at=oldest,
        ready_agents=ready_agents,
        windows=tuple(windows.values()),
    )


def with_centre(queues: Mapping[str, QueueMetrics], ready_agents: int) -> dict[str, QueueMetrics]:
    """Every queue's metrics plus the centre's under "*": what `RuleBook.evaluate` takes."""
    return {**queues, CENTRE: combine(queues.values(), ready_agents)}


@dataclass(slots=True)
class _Bucket:
    first_at: float
    last_at: float
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    abandoned_in_target: int = 0


class ServiceLevelWindow:
    """Answered and abandoned calls over a sliding window, for one queue's service level.

    Calls that end within `resolution_seconds` of the first call of the newest bucket share
    it, so memory stays bounded (at most window / resolution + 2 buckets, whatever the call
    rate) and each call costs O(1) amortised: it is added once and expired once. A bucket
    leaves the window when its newest call does, so a call counts for at least
    `window_seconds` and at most `resolution_seconds` longer. `resolution_seconds=0` keeps
    every call apart: exact, with memory growing with the calls in the window.
    """

    def __init__(
        self,
        target_seconds: float,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        resolution_seconds: float = 1.0,
    ) -> None:
        if window_seconds <= 0 or target_seconds < 0 or resolution_seconds < 0:
            raise ValueError("window must be positive, target and resolution not negative")
        self.target_seconds = target_seconds
        self.window_seconds = window_seconds
        self.resolution_seconds = resolution_seconds
        self._buckets: deque[_Bucket] = deque()
        self._totals = _Bucket(0.0, 0.0)

    def answered(self, wait: float, at: float) -> None:
        bucket = self._bucket(at)
        in_target = wait <= self.target_seconds
        bucket.answered += 1
        self._totals.answered += 1
        bucket.answered_in_target += in_target
        self._totals.answered_in_target += in_target

    def abandoned(self, wait: float, at: float) -> None:
        bucket = self._bucket(at)
        in_target = wait <= self.target_seconds
        bucket.abandoned += 1
        self._totals.abandoned += 1
        bucket.abandoned_in_target += in_target
        self._totals.abandoned_in_target += in_target

    def counts(self, now: float) -> WindowCounts:
        self._expire(now)
        totals = self._totals
        return WindowCounts(
            window_seconds=self.window_seconds,
            answered=totals.answered,
            answered_in_target=totals.answered_in_target,
            abandoned=totals.abandoned,
            abandoned_in_target=totals.abandoned_in_target,
            changes_at=(self._buckets[0].last_at + self.window_seconds if self._buckets else None),
        )

    def value(self, now: float) -> float | None:
        return self.counts(now).service_level

    def __len__(self) -> int:
        """Buckets held: what the memory bound is about."""
        return len(self._buckets)

    def _bucket(self, at: float) -> _Bucket:
        newest = self._buckets[-1] if self._buckets else None
        # A call reported out of order (older than the newest bucket) joins the newest one:
        # it is counted a little longer rather than lost or sorted in.
        if newest is not None and (
            at - newest.first_at < self.resolution_seconds or at < newest.last_at
        ):
            newest.last_at = max(newest.last_at, at)
            return newest
        bucket = _Bucket(at, at)
        self._buckets.append(bucket)
        return bucket

    def _expire(self, now: float) -> None:
        buckets, totals = self._buckets, self._totals
        while buckets and buckets[0].last_at + self.window_seconds <= now:
            old = buckets.popleft()
            totals.answered -= old.answered
            totals.answered_in_target -= old.answered_in_target
            totals.abandoned -= old.abandoned
            totals.abandoned_in_target -= old.abandoned_in_target


@dataclass(slots=True)
class ServiceLevels:
    """One queue's service level over each window the rules use, fed once per call."""

    target_seconds: float
    window_seconds: Iterable[float] = (DEFAULT_WINDOW_SECONDS,)
    resolution_seconds: float = 1.0
    _windows: list[ServiceLevelWindow] = field(init=False)

    def __post_init__(self) -> None:
        self._windows = [
            ServiceLevelWindow(self.target_seconds, seconds, self.resolution_seconds)
            for seconds in dict.fromkeys(self.window_seconds)
        ]

    def answered(self, wait: float, at: float) -> None:
        for window in self._windows:
            window.answered(wait, at)

    def abandoned(self, wait: float, at: float) -> None:
        for window in self._windows:
            window.abandoned(wait, at)

    def counts(self, now: float) -> tuple[WindowCounts, ...]:
        return tuple(window.counts(now) for window in self._windows)


def _earliest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
