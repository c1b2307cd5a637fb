"""Erlang C and Erlang A: the issue's worked example, exact references, and properties."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, getcontext

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from acd.staffing import (
    ErlangResult,
    agents_needed,
    erlang_a,
    erlang_c,
    offered_load,
    scheduled_agents,
)
from tests.unit.staffing.brute import erlang_a_brute

# The issue's example: 100 calls per 30 minutes, AHT 180 s, 80% answered within 20 s.
CALLS, PERIOD, AHT, LEVEL, WITHIN = 100, 1800, 180, 0.80, 20


def test_the_issue_example_needs_14_agents() -> None:
    plan = agents_needed(CALLS, PERIOD, AHT, LEVEL, WITHIN)
    assert plan.agents == 14
    assert round(plan.erlang.service_level, 4) == 0.8884
    assert round(plan.erlang.wait_probability, 4) == 0.1741
    assert round(plan.erlang.occupancy, 4) == 0.7143
    assert plan.erlang.abandon_rate is None
    assert plan.scheduled == 14


def test_with_30_percent_shrinkage_20_agents_are_scheduled() -> None:
    plan = agents_needed(CALLS, PERIOD, AHT, LEVEL, WITHIN, shrinkage=0.3)
    assert (plan.agents, plan.scheduled) == (14, 20)


def test_13_agents_miss_the_target() -> None:
    assert erlang_c(CALLS, PERIOD, AHT, 13, WITHIN).service_level < LEVEL


def test_asa_is_the_erlang_c_mean_wait() -> None:
    result = erlang_c(CALLS, PERIOD, AHT, 14, WITHIN)
    assert result.asa == pytest.approx(result.wait_probability * AHT / (14 - 10), rel=1e-12)
    assert round(result.asa, 4) == 7.8359


def test_scheduling_is_exact_where_floats_are_not() -> None:
    assert math.ceil(21 / (1 - 0.3)) == 31  # the float trap: 30.000000000000004
    assert scheduled_agents(21, 0.3) == 30
    assert scheduled_agents(14, 0.3) == 20
    assert scheduled_agents(14, 0.35) == 22  # 21.54 -> 22
    assert scheduled_agents(0, 0.5) == 0


def test_no_more_agents_than_erlangs_never_clears_the_queue() -> None:
    result = erlang_c(CALLS, PERIOD, AHT, 10, WITHIN)  # 10 agents for 10 Erlangs
    assert result == ErlangResult(10, 0.0, 1.0, math.inf, 1.0)


def test_no_calls_need_no_agents() -> None:
    plan = agents_needed(0, PERIOD, AHT, LEVEL, WITHIN, shrinkage=0.3)
    assert (plan.agents, plan.scheduled, plan.erlang.service_level) == (0, 0, 1.0)


def test_max_occupancy_adds_agents_beyond_the_service_level() -> None:
    plan = agents_needed(CALLS, PERIOD, AHT, LEVEL, WITHIN, max_occupancy=0.65)
    assert plan.agents == 16  # 10 / 16 = 0.625; 15 would be 0.667
    assert plan.erlang.occupancy <= 0.65


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c(-1, PERIOD, AHT, 14, WITHIN), "calls"),
        (lambda: erlang_c(CALLS, 0, AHT, 14, WITHIN), "period"),
        (lambda: erlang_c(CALLS, PERIOD, 0, 14, WITHIN), "handle time"),
        (lambda: erlang_c(CALLS, PERIOD, AHT, -1, WITHIN), "agents"),
        (lambda: erlang_c(CALLS, PERIOD, AHT, 14, -1), "target time"),
        (lambda: erlang_a(CALLS, PERIOD, AHT, 14, WITHIN, 0), "patience"),
        (lambda: agents_needed(CALLS, PERIOD, AHT, 1.0, WITHIN), "below 100%"),
        (lambda: agents_needed(CALLS, PERIOD, AHT, LEVEL, WITHIN, shrinkage=1.0), "shrinkage"),
        (lambda: agents_needed(CALLS, PERIOD, AHT, LEVEL, WITHIN, max_occupancy=0), "occupancy"),
    ],
)
def test_bad_input_is_refused_with_what_is_wrong(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# Large centres: the recursion in log space against 60-digit decimal arithmetic.


def _erlang_c_decimal(load: int, agents: int, aht: int, within: int) -> tuple[Decimal, Decimal]:
    getcontext().prec = 60
    a, b = Decimal(load), Decimal(1)
    for n in range(1, agents + 1):
        b = a * b / (n + a * b)
    rho = a / agents
    c = b / (1 - rho * (1 - b))
    service_level = 1 - c * (-(agents - a) * within / Decimal(aht)).exp()
    return c, service_level


def test_5000_agents_at_4900_erlangs_match_high_precision_arithmetic() -> None:
    calls = 4900 * PERIOD / AHT
    result = erlang_c(calls, PERIOD, AHT, 5000, WITHIN)
    wait, level = _erlang_c_decimal(4900, 5000, AHT, WITHIN)
    assert result.wait_probability == pytest.approx(float(wait), rel=1e-10)
    assert result.service_level == pytest.approx(float(level), rel=1e-12)
    assert 0 < result.wait_probability < 1
    assert result.occupancy == pytest.approx(0.98)


def test_a_huge_centre_is_staffed_without_overflow() -> None:
    calls = 4900 * PERIOD / AHT
    plan = agents_needed(calls, PERIOD, AHT, LEVEL, WITHIN, shrinkage=0.3)
    assert plan.agents == 4913
    assert (
        erlang_c(calls, PERIOD, AHT, 4912, WITHIN).service_level
        < LEVEL
        <= (plan.erlang.service_level)
    )
    patient = agents_needed(calls, PERIOD, AHT, LEVEL, WITHIN, patience=300)
    assert all(math.isfinite(v) for v in (patient.erlang.asa, patient.erlang.service_level))


def test_many_agents_at_little_traffic_do_not_underflow_to_nonsense() -> None:
    result = erlang_c(1, PERIOD, AHT, 3000, WITHIN)
    assert result.wait_probability == 0.0
    assert result.service_level == 1.0
    a = erlang_a(1, PERIOD, AHT, 3000, WITHIN, 60)
    assert (a.wait_probability, a.service_level, a.abandon_rate) == (0.0, 1.0, 0.0)


# Erlang A against the birth-death chain, simulated by uniformization (tests/unit/staffing/brute).


@pytest.mark.parametrize(
    ("calls", "period", "aht", "agents", "within", "patience"),
    [
        (100, 1800, 180, 14, 20, 60),  # the issue's centre, impatient callers
        (100, 1800, 180, 8, 20, 60),  # understaffed: stable only thanks to abandonment
        (100, 1800, 180, 10, 30, 120),  # exactly as many agents as Erlangs
        (40, 3600, 300, 2, 20, 90),  # a tiny queue
        (100, 1800, 180, 14, 0, 600),  # answered at once
        (300, 1800, 120, 15, 60, 45),  # heavily overloaded
    ],
)
def test_erlang_a_matches_the_birth_death_chain(
    calls: float, period: float, aht: float, agents: int, within: float, patience: float
) -> None:
    exact = erlang_a(calls, period, aht, agents, within, patience)
    brute = erlang_a_brute(calls / period, aht, agents, within, patience)
    assert exact.service_level == pytest.approx(brute.service_level, abs=1e-9)
    assert exact.wait_probability == pytest.approx(brute.wait_probability, abs=1e-9)
    assert exact.abandon_rate == pytest.approx(brute.abandon_rate, abs=1e-9)
    assert exact.asa == pytest.approx(brute.asa, rel=1e-9)
    carried = offered_load(calls, period, aht) * (1 - brute.abandon_rate)
    assert exact.occupancy == pytest.approx(carried / agents, rel=1e-9)


def test_an_overloaded_erlang_a_centre_sheds_the_excess_as_abandons() -> None:
    # Many agents, long patience: the fluid limit abandons the excess 1 - N / load.
    calls = 4900 * PERIOD / AHT
    result = erlang_a(calls, PERIOD, AHT, 4800, WITHIN, 300)
    assert result.abandon_rate == pytest.approx(1 - 4800 / 4900, abs=0.001)
    assert result.occupancy == pytest.approx(1.0, abs=0.001)


def test_infinite_patience_is_erlang_c() -> None:
    a = erlang_a(CALLS, PERIOD, AHT, 14, WITHIN, math.inf)
    c = erlang_c(CALLS, PERIOD, AHT, 14, WITHIN)
    assert (a.service_level, a.wait_probability, a.asa, a.abandon_rate) == (
        c.service_level,
        c.wait_probability,
        c.asa,
        0.0,
    )


def test_erlang_a_closes_in_on_erlang_c_as_patience_grows() -> None:
    c = erlang_c(CALLS, PERIOD, AHT, 14, WITHIN)
    gaps = [
        abs(erlang_a(CALLS, PERIOD, AHT, 14, WITHIN, p).service_level - c.service_level)
        for p in (60, 600, 6_000, 60_000, 600_000, 6e9)
    ]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-8


# Properties.

loads = st.floats(min_value=0.1, max_value=400)
ahts = st.floats(min_value=10, max_value=1200)
withins = st.floats(min_value=0, max_value=300)
patiences = st.floats(min_value=1, max_value=3600)


@settings(max_examples=60, deadline=None)
@given(load=loads, aht=ahts, within=withins, extra=st.integers(0, 60))
def test_erlang_c_service_level_grows_with_agents(
    load: float, aht: float, within: float, extra: int
) -> None:
    calls = load * PERIOD / aht
    agents = math.floor(load) + 1 + extra
    fewer = erlang_c(calls, PERIOD, aht, agents, within)
    more = erlang_c(calls, PERIOD, aht, agents + 1, within)
    assert more.service_level >= fewer.service_level
    assert more.wait_probability <= fewer.wait_probability
    for result in (fewer, more):
        assert 0 <= result.wait_probability <= 1
        assert 0 <= result.service_level <= 1
        assert 0 < result.occupancy < 1


@settings(max_examples=60, deadline=None)
@given(load=loads, aht=ahts, within=withins, patience=patiences, agents=st.integers(1, 450))
def test_erlang_a_service_level_grows_with_agents(
    load: float, aht: float, within: float, patience: float, agents: int
) -> None:
    calls = load * PERIOD / aht
    fewer = erlang_a(calls, PERIOD, aht, agents, within, patience)
    more = erlang_a(calls, PERIOD, aht, agents + 1, within, patience)
    # Erlang A's service level is 1 - abandons - late answers: exact to about 1e-12 absolute,
    # which is all an overloaded centre's near-zero level can be resolved to.
    assert more.service_level >= fewer.service_level - 1e-10
    for result in (fewer, more):
        assert 0 <= result.wait_probability <= 1
        assert 0 <= result.service_level <= 1
        assert result.abandon_rate is not None and 0 <= result.abandon_rate <= 1
        assert 0 <= result.occupancy <= 1
        assert math.isfinite(result.asa)


@settings(max_examples=40, deadline=None)
@given(load=loads, aht=ahts, within=withins, spare=st.floats(min_value=0.5, max_value=50))
def test_erlang_a_tends_to_erlang_c_with_endless_patience(
    load: float, aht: float, within: float, spare: float
) -> None:
    calls = load * PERIOD / aht
    agents = math.ceil(load + spare)
    assume(agents - load >= 0.5)
    c = erlang_c(calls, PERIOD, aht, agents, within)
    a = erlang_a(calls, PERIOD, aht, agents, within, patience=aht * 1e9)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
    assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-6)
    assert a.asa == pytest.approx(c.asa, rel=1e-5, abs=1e-9)
    assert a.occupancy == pytest.approx(c.occupancy, rel=1e-6)
    assert a.abandon_rate is not None and a.abandon_rate < 1e-6


@settings(max_examples=40, deadline=None)
@given(load=loads, aht=ahts, within=withins, level=st.floats(min_value=0.05, max_value=0.99))
def test_agents_needed_is_the_fewest_meeting_the_target(
    load: float, aht: float, within: float, level: float
) -> None:
    calls = load * PERIOD / aht
    plan = agents_needed(calls, PERIOD, aht, level, within)
    assert plan.erlang.service_level >= level
    assert erlang_c(calls, PERIOD, aht, plan.agents - 1, within).service_level < level
