"""Expected wait told to a waiting caller, and the handle time it rests on.

The estimate is deliberately simple, cheap and explainable to ops:

    EWT = ceil(position * AHT / max(1, N))

- `position` is the caller's place in its queue (1 = offered next).
- `AHT` (average handle time) is an exponentially weighted moving average of the handle time
  (talk + wrap-up, as actually spent) of the queue's finished calls. It starts at the queue's
  `initial_handle_seconds` and each finished call moves it by `ALPHA` of the difference, so
  it follows changes within tens of calls and forgets old shifts, with O(1) state.
- `N` is the number of logged-in agents (any state but logged-out) who can take the queue's
  calls at some stage of their wait: agents on a break still come back, and they are the
  staff the queue has.

Each of the N agents frees up on average every AHT seconds, so the line moves by about one
caller every AHT/N seconds; the caller at `position` waits about `position` such intervals.
It ignores time already spent in the current calls and agents shared with other queues, and
it errs long (rounded up), which callers forgive more readily than a promise broken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.2
"""Weight of the newest finished call in the average handle time."""


@dataclass(slots=True)
class HandleTime:
    """A queue's average handle time (seconds) as an exponentially weighted moving average."""

    seconds: float
    samples: int = 0

    def add(self, handle_seconds: float) -> None:
        self.seconds += ALPHA * (max(0.0, handle_seconds) - self.seconds)
        self.samples += 1


def expected_wait(position: int, handle_seconds: float, agents: int) -> int:
    """Whole seconds a caller at `position` can expect to wait; see the module docstring."""
    return math.ceil(position * handle_seconds / max(1, agents))
