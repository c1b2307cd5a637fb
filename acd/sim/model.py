"""What the simulated world does: when callers arrive, how long they talk, how long they wait.

The core decides who takes which call; everything it cannot know (the traffic, the talk
times, the callers' patience, how long a phone rings before the agent picks up) is drawn here
from a seeded `random.Random`. Each kind of draw has its own stream, and every caller gets
its talk time and patience when it arrives: two runs with the same seed see the same callers
whatever the staffing or the rules, so a what-if compares like with like (common random
numbers) instead of comparing two different days.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Literal

Shape = Literal["exponential", "fixed", "lognormal"]


@dataclass(frozen=True, slots=True)
class Distribution:
    """A positive duration with mean `mean` seconds.

    `cv` (standard deviation / mean) shapes the lognormal only; the exponential's is 1 and
    the fixed one's 0.
    """

    mean: float
    shape: Shape = "exponential"
    cv: float = 1.0

    def __post_init__(self) -> None:
        if self.mean <= 0:
            raise ValueError(f"a mean duration must be positive, not {self.mean}")
        if self.shape == "lognormal" and self.cv <= 0:
            raise ValueError("a lognormal needs a positive cv")

    def sample(self, rng: random.Random) -> float:
        if self.shape == "fixed":
            return self.mean
        if self.shape == "exponential":
            return rng.expovariate(1.0 / self.mean)
        sigma2 = math.log1p(self.cv * self.cv)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(frozen=True, slots=True)
class Traffic:
    """Poisson arrivals: `calls[i]` calls in the i-th `period_seconds` of the measured time,
    the last figure holding to the end; the warm-up runs at the first figure's rate."""

    calls: tuple[float, ...]
    period_seconds: float

    def __post_init__(self) -> None:
        if not self.calls or any(c < 0 for c in self.calls):
            raise ValueError("give one or more non-negative call counts")
        if self.period_seconds <= 0:
            raise ValueError("the period must be positive")

    @property
    def flat(self) -> bool:
        return len(set(self.calls)) == 1

    def rate(self, index: int) -> float:
        """Calls per second in the `index`-th period (negative: the warm-up)."""
        return self.calls[max(0, min(index, len(self.calls) - 1))] / self.period_seconds


@dataclass(frozen=True, slots=True)
class Replay:
    """Callers at given times (seconds from the start of the warm-up): a real day's arrivals
    replayed against other staffing or rules, or a scenario small enough to check by hand."""

    times: tuple[float, ...]

    def __post_init__(self) -> None:
        if any(b < a for a, b in itertools.pairwise(self.times)) or any(t < 0 for t in self.times):
            raise ValueError("arrival times must be non-negative and in order")


@dataclass(frozen=True, slots=True)
class Model:
    """One simulated stretch of time: warm-up, then `duration_seconds` measured.

    Statistics count the callers who arrive in the measured time; the run goes on after it
    (no new arrivals) until they are all done, or `drain_seconds` more have passed.
    `talk` is the talk time only: the agent's handle time is talk + the queue's wrap-up
    (+ `ring_seconds`, while its phone rings). `patience` None: nobody hangs up while waiting.
    `no_answer_back_seconds`: an agent paused by a no-answer is made ready again after this.
    """

    traffic: Traffic | Replay
    talk: Distribution
    duration_seconds: float
    warmup_seconds: float = 1800.0
    patience: Distribution | None = None
    ring_seconds: float = 0.0
    target_seconds: float = 20.0
    drain_seconds: float = 4 * 3600.0
    no_answer_back_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.duration_seconds <= 0:
            raise ValueError("the measured duration must be positive")
        if self.warmup_seconds < 0 or self.ring_seconds < 0 or self.drain_seconds < 0:
            raise ValueError("warm-up, ring and drain times cannot be negative")

    @property
    def end(self) -> float:
        """When arrivals stop (simulated time starts at 0 with the warm-up)."""
        return self.warmup_seconds + self.duration_seconds


class Arrivals:
    """The next caller's arrival time, from a piecewise-constant-rate Poisson process.

    Within each stretch of constant rate the gaps are exponential; a gap that would cross
    the stretch's end is redrawn from that end at the next rate (exact for Poisson arrivals,
    which have no memory).
    """

    __slots__ = ("_model", "_replayed", "_rng", "_t")

    def __init__(self, model: Model, rng: random.Random) -> None:
        self._model = model
        self._rng = rng
        self._t = 0.0
        replay = model.traffic if isinstance(model.traffic, Replay) else None
        self._replayed = iter(replay.times) if replay is not None else None

    def next(self) -> float | None:
        model = self._model
        if self._replayed is not None:
            at = next(self._replayed, None)
            return at if at is not None and at < model.end else None
        traffic = model.traffic
        assert isinstance(traffic, Traffic)
        t = self._t
        while t < model.end:
            if t < model.warmup_seconds:
                index, boundary = -1, model.warmup_seconds
            else:
                index = int((t - model.warmup_seconds) // traffic.period_seconds)
                last = index >= len(traffic.calls) - 1
                boundary = (
                    model.end
                    if last
                    else model.warmup_seconds + (index + 1) * traffic.period_seconds
                )
            rate = traffic.rate(index)
            if rate > 0:
                arrival = t + self._rng.expovariate(rate)
                if arrival < boundary:
                    self._t = arrival
                    return arrival
            t = min(boundary, model.end)
        self._t = t
        return None


class Streams:
    """One independent stream per kind of draw, all derived from the run's seed."""

    __slots__ = ("arrivals", "patience", "talk")

    def __init__(self, seed: int, replication: int) -> None:
        # String seeds go through SHA-512: stable across processes and Python versions.
        self.arrivals = random.Random(f"acd-sim:{seed}:{replication}:arrivals")
        self.talk = random.Random(f"acd-sim:{seed}:{replication}:talk")
        self.patience = random.Random(f"acd-sim:{seed}:{replication}:patience")
