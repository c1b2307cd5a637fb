"""Erlang C (M/M/N) and Erlang A (M/M/N+M) staffing maths, exact and in log space.

Why log space: the textbook formulas divide factorials and powers (A^N / N!) that overflow a
float from about 170 agents on, while a planning tool must size centres of thousands of agents
at thousands of Erlangs. Erlang B comes from its recursion B(n) = A B(n-1) / (n + A B(n-1)),
carried as log B so that a vanishing B (many agents, little traffic) never underflows to 0 and
then poisons a log or a division; Erlang C and the Erlang A stationary law are built from it.

Erlang A (Palm; Garnett, Mandelbaum and Reiman 2002) adds exponential patience with mean
`patience`. With x = N*patience/AHT and y = rate*patience, the queue states weigh
T_k = y^k / ((x+1)...(x+k)); their sum A(x, y) is summed term by term in log space from its
largest term outward, so its cost grows with the width of the queue-length distribution
(about the square root of y), not with its position. The measures, derived from the
birth-death chain and the tagged caller's wait (the closed forms are in the functions below):

* P(wait)       = pi_N A(x, y), where pi_N = B / (1 + (A(x, y) - 1) B)
* P(abandon)    = pi_N sum(k T_k) / y
* P(answered, waited longer than t)
                = pi_N x/(x+1) A(x+1, y q) exp(y (1 - q) - (N/AHT + 1/patience) t),
                  with q = e^(-t/patience)
* service level = 1 - P(abandon) - P(answered, waited longer than t): callers answered within
  t out of all offered, so one who hangs up counts against it (the conservative reading)
* ASA           = mean wait of answered calls

As patience grows, x/y stays at N/A and each formula tends to its Erlang C counterpart.
Precision: probabilities are exact to about 1e-12 absolute (1e-10 with patience of hours at
thousands of agents, where the log-gamma values are large); staffing needs four decimals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

#: Terms this far (in natural log) below the largest one are dropped from a series: e^-45 is
#: about 3e-20, far below a float's resolution of the sum.
_NEGLIGIBLE = 45.0
#: Staffing searches give up here rather than loop forever on a target no staffing can meet.
MAX_AGENTS = 10_000_000


@dataclass(frozen=True)
class ErlangResult:
    """One staffing level's expected performance.

    `service_level`: share of offered calls answered within the target time; `asa`: mean
    seconds to answer of answered calls (infinite when none is ever answered); `occupancy`:
    share of the agents' time spent handling calls; `abandon_rate`: share of offered calls
    that hang up before an answer (Erlang A only; None for Erlang C, whose callers never do).
    """

    agents: int
    service_level: float
    wait_probability: float
    asa: float
    occupancy: float
    abandon_rate: float | None = None


@dataclass(frozen=True)
class StaffingResult:
    """The fewest agents on the phones meeting a target, and how many to schedule for them.

    `scheduled` covers shrinkage (breaks, training, absence): ceil(agents / (1 - shrinkage)).
    """

    erlang: ErlangResult
    scheduled: int
    shrinkage: float = 0.0

    @property
    def agents(self) -> int:
        return self.erlang.agents


def offered_load(calls: float, period_seconds: float, aht: float) -> float:
    """Traffic in Erlangs: the average number of calls in progress if none ever waited."""
    return calls * aht / period_seconds


def erlang_c(
    calls: float, period_seconds: float, aht: float, agents: int, target_seconds: float
) -> ErlangResult:
    """Erlang C: callers wait as long as it takes.

    With no more agents than Erlangs the queue grows without bound: every caller waits, the
    service level is 0 and the ASA infinite.
    """
    _check_common(calls, period_seconds, aht, agents, target_seconds)
    load = offered_load(calls, period_seconds, aht)
    if load == 0:
        return ErlangResult(agents, 1.0, 0.0, 0.0, 0.0)
    if agents == 0:
        return ErlangResult(0, 0.0, 1.0, math.inf, 0.0)
    if agents <= load:
        return ErlangResult(agents, 0.0, 1.0, math.inf, 1.0)
    log_b = log_erlang_b(agents, load)
    rho = load / agents
    # C = B / (1 - rho (1 - B)); 1 - rho > 0 here, so no cancellation to speak of.
    log_c = log_b - math.log((1.0 - rho) + rho * math.exp(log_b))
    wait = min(1.0, math.exp(log_c))
    spare = agents - load
    service_level = -math.expm1(log_c - spare * target_seconds / aht)
    return ErlangResult(
        agents=agents,
        service_level=_unit(service_level),
        wait_probability=wait,
        asa=wait * aht / spare,
        occupancy=rho,
    )


def erlang_a(
    calls: float,
    period_seconds: float,
    aht: float,
    agents: int,
    target_seconds: float,
    patience: float,
) -> ErlangResult:
    """Erlang A: callers hang up after an exponential patience with mean `patience` seconds.

    Stable at any staffing, since callers who wait too long leave; an infinite patience is
    Erlang C (with an abandon rate of 0).
    """
    _check_common(calls, period_seconds, aht, agents, target_seconds)
    if not patience > 0:
        raise ValueError(f"patience must be above 0 seconds, not {patience}")
    if math.isinf(patience):
        c = erlang_c(calls, period_seconds, aht, agents, target_seconds)
        return ErlangResult(c.agents, c.service_level, c.wait_probability, c.asa, c.occupancy, 0.0)
    load = offered_load(calls, period_seconds, aht)
    if load == 0:
        return ErlangResult(agents, 1.0, 0.0, 0.0, 0.0, 0.0)
    if agents == 0:
        return ErlangResult(0, 0.0, 1.0, math.inf, 0.0, 1.0)

    rate = calls / period_seconds
    theta = 1.0 / patience
    x = agents * patience / aht
    y = rate * patience

    log_b = log_erlang_b(agents, load)
    b = math.exp(log_b)
    log_a = _log_series(x, y)
    # pi_N = B / ((1 - B) + A(x, y) B): the stationary probability that all agents are busy
    # and nobody waits.
    no_queue = math.log1p(-b) if b < 1.0 else -math.inf
    log_pi = log_b - _logaddexp(no_queue, log_a + log_b)

    wait = min(1.0, math.exp(log_pi + log_a))
    abandon = min(1.0, math.exp(log_pi + _log_series(x, y, _log_k) - math.log(y)))

    t = target_seconds
    q_log = -theta * t
    late = math.exp(
        log_pi
        + math.log(x / (x + 1.0))
        + _log_series(x + 1.0, y * math.exp(q_log))
        + y * -math.expm1(q_log)
        - (agents / aht + theta) * t
    )
    service_level = _unit(1.0 - abandon - late)

    answered = 1.0 - abandon
    if answered > 0:
        # E[wait; answered] = pi_N sum_k T_k x/(x+k+1) H_k / theta, H_k = sum_{j<=k} 1/(x+1+j):
        # the k callers ahead leave at rate N/AHT + j/patience, tilted by the caller's own
        # patience outlasting the wait.
        def log_weight(k: int) -> float:
            return math.log(x / (x + k + 1.0)) + math.log(_harmonic(x, k))

        waited = math.exp(log_pi + _log_series(x, y, log_weight)) * patience
        asa = waited / answered
    else:
        asa = math.inf
    return ErlangResult(
        agents=agents,
        service_level=service_level,
        wait_probability=wait,
        asa=asa,
        occupancy=min(1.0, load * answered / agents),
        abandon_rate=abandon,
    )


def agents_needed(
    calls: float,
    period_seconds: float,
    aht: float,
    target_level: float,
    target_seconds: float,
    *,
    shrinkage: float = 0.0,
    patience: float | None = None,
    max_occupancy: float | None = None,
) -> StaffingResult:
    """The fewest agents on the phones whose service level reaches `target_level` (a share,
    0.8 for 80%) within `target_seconds`, and whose occupancy stays at or below
    `max_occupancy` when given; Erlang A with `patience`, otherwise Erlang C.

    Service level only grows and occupancy only falls with more agents, so an exponential
    then binary search finds the fewest in O(log N) evaluations of O(N) each.
    """
    if not 0 < target_level < 1:
        raise ValueError(
            f"the service level target must be above 0% and below 100%, not {target_level:.0%}"
        )
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be at least 0% and below 100%, not {shrinkage:.0%}")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError(
            f"the maximum occupancy must be above 0% and at most 100%, not {max_occupancy:.0%}"
        )

    def evaluate(agents: int) -> ErlangResult:
        if patience is None:
            return erlang_c(calls, period_seconds, aht, agents, target_seconds)
        return erlang_a(calls, period_seconds, aht, agents, target_seconds, patience)

    def meets(result: ErlangResult) -> bool:
        return result.service_level >= target_level and (
            max_occupancy is None or result.occupancy <= max_occupancy
        )

    best = evaluate(0)
    if not meets(best):
        # Erlang C cannot meet anything at or below the load; Erlang A might.
        load = offered_load(calls, period_seconds, aht)
        low = math.floor(load) if patience is None else 0
        step = 1
        while True:
            high = low + step
            if high > MAX_AGENTS:
                raise ValueError(f"no staffing up to {MAX_AGENTS} agents meets the target")
            best = evaluate(high)
            if meets(best):
                break
            low, step = high, step * 2
        while high - low > 1:  # low fails, high meets
            middle = (low + high) // 2
            result = evaluate(middle)
            if meets(result):
                high, best = middle, result
            else:
                low = middle
    return StaffingResult(best, scheduled_agents(best.agents, shrinkage), shrinkage)


def scheduled_agents(agents: int, shrinkage: float) -> int:
    """ceil(agents / (1 - shrinkage)), in exact decimal arithmetic: in floats 21 / (1 - 0.3)
    is 30.000000000000004, and one agent too many would be scheduled."""
    return math.ceil(Fraction(agents) / (1 - Fraction(str(shrinkage))))


def log_erlang_b(agents: int, load: float) -> float:
    """log of the Erlang B blocking probability for `agents` servers and `load` Erlangs."""
    if load <= 0:
        return 0.0 if agents == 0 else -math.inf
    log_load = math.log(load)
    log_b = 0.0
    for n in range(1, agents + 1):
        carried = log_load + log_b
        log_b = carried - _logaddexp(math.log(n), carried)
    return log_b


def _log_series(x: float, y: float, log_weight: Callable[[int], float] | None = None) -> float:
    """log sum_k T_k w(k) with T_k = y^k / ((x+1)...(x+k)), w(k) = exp(log_weight(k)) or 1.

    T_k is log-concave with its peak at k = floor(y - x) (or 0), so the sum walks out from
    the peak both ways until terms become negligible.
    """
    weight = log_weight or (lambda _k: 0.0)
    if y <= 0:
        return weight(0)
    log_y = math.log(y)
    peak = max(0, math.floor(y - x))
    log_t = peak * log_y - (math.lgamma(x + peak + 1.0) - math.lgamma(x + 1.0)) if peak else 0.0
    terms = [log_t + weight(peak)]
    largest = terms[0]
    k, log_tk = peak, log_t
    while True:
        k += 1
        log_tk += log_y - math.log(x + k)
        term = log_tk + weight(k)
        terms.append(term)
        largest = max(largest, term)
        if term < largest - _NEGLIGIBLE:
            break
    k, log_tk = peak, log_t
    while k > 0:
        log_tk -= log_y - math.log(x + k)
        k -= 1
        term = log_tk + weight(k)
        terms.append(term)
        largest = max(largest, term)
        if term < largest - _NEGLIGIBLE:
            break
    if largest == -math.inf:
        return -math.inf
    return largest + math.log(math.fsum(math.exp(t - largest) for t in terms))


def _log_k(k: int) -> float:
    return math.log(k) if k else -math.inf


def _harmonic(x: float, k: int) -> float:
    """sum_{j=0..k} 1/(x+1+j): summed directly for small k, where the digamma difference
    would cancel, by digamma beyond."""
    if k < 32:
        return math.fsum(1.0 / (x + 1.0 + j) for j in range(k + 1))
    return _digamma(x + k + 2.0) - _digamma(x + 1.0)


def _digamma(z: float) -> float:
    """psi(z) for z > 0: the recurrence up to 10, then the asymptotic series (error < 1e-15)."""
    result = 0.0
    while z < 10.0:
        result -= 1.0 / z
        z += 1.0
    inv2 = 1.0 / (z * z)
    series = inv2 * (
        1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132))))
    )
    return result + math.log(z) - 0.5 / z - series


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(math.exp(low - high))


def _unit(value: float) -> float:
    """Clamp rounding noise (1 - 1e-17 ...) back into [0, 1]."""
    return min(1.0, max(0.0, value))


def _check_common(
    calls: float, period_seconds: float, aht: float, agents: int, target_seconds: float
) -> None:
    if not calls >= 0 or math.isinf(calls):
        raise ValueError(f"calls must be a number of 0 or more, not {calls}")
    if not period_seconds > 0 or math.isinf(period_seconds):
        raise ValueError(f"the period must be above 0 seconds, not {period_seconds}")
    if not aht > 0 or math.isinf(aht):
        raise ValueError(f"the average handle time must be above 0 seconds, not {aht}")
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise ValueError(f"agents must be a whole number of 0 or more, not {agents!r}")
    if not target_seconds >= 0 or math.isinf(target_seconds):
        raise ValueError(f"the target time must be 0 seconds or more, not {target_seconds}")
