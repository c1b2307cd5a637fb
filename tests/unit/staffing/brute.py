"""Erlang A the slow, obvious way, to check the closed forms against.

The queue is a birth-death chain, truncated where its states stop mattering; a tagged caller
who finds k callers ahead moves down a small chain (one ahead is served or hangs up, or they
hang up themselves) whose answer-within-t probability comes from uniformization. None of the
closed forms or series of `acd.staffing.erlang` is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Brute:
    service_level: float
    wait_probability: float
    abandon_rate: float
    asa: float


def erlang_a_brute(
    rate: float, aht: float, agents: int, target: float, patience: float, states: int = 400
) -> Brute:
    mu, theta = 1.0 / aht, 1.0 / patience
    weights = [1.0]
    for n in range(1, agents + states):
        out = n * mu if n <= agents else agents * mu + (n - agents) * theta
        weights.append(weights[-1] * rate / out)
    total = math.fsum(weights)
    pi = [w / total for w in weights]
    queued = pi[agents:]  # pi[agents + k]: an arrival finds k callers ahead

    # Tagged caller with j ahead: r_j = N mu + j theta moves them up, theta makes them leave.
    ahead = len(queued)
    r = [agents * mu + j * theta for j in range(ahead)]
    served: list[float] = []  # P(answered | j ahead)
    waited: list[float] = []  # E[wait; answered | j ahead]
    for j in range(ahead):
        advance = r[j] / (r[j] + theta)
        before_s, before_m = (served[-1], waited[-1]) if j else (1.0, 0.0)
        served.append(advance * before_s)
        waited.append(advance * (before_s / (r[j] + theta) + before_m))

    # Uniformization for P(answered within target | j ahead).
    big = r[-1] + theta
    steps = int(big * target + 12 * math.sqrt(big * target + 1) + 60)
    v = [0.0] * ahead
    within = [0.0] * ahead
    poisson = math.exp(-big * target)
    for n in range(steps + 1):
        within = [w + poisson * vj for w, vj in zip(within, v, strict=True)]
        v = [
            r[j] / big * (v[j - 1] if j else 1.0) + (1 - (r[j] + theta) / big) * v[j]
            for j in range(ahead)
        ]
        poisson *= big * target / (n + 1)

    no_wait = math.fsum(pi[:agents])
    answered = no_wait + math.fsum(p * s for p, s in zip(queued, served, strict=True))
    return Brute(
        service_level=no_wait + math.fsum(p * w for p, w in zip(queued, within, strict=True)),
        wait_probability=math.fsum(queued),
        abandon_rate=1.0 - answered,
        asa=math.fsum(p * m for p, m in zip(queued, waited, strict=True)) / answered,
    )
