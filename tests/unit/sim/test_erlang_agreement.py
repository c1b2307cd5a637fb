"""The simulator against queueing theory where theory is exact: M/M/N is Erlang C.

14 agents, 100 calls per 30 minutes, AHT 180 s exponential, no abandonment, no wrap-up, no
ring delay: 10 Erlangs on 14 agents. Erlang C gives a service level of 0.8884 within 20 s and
a wait probability of 0.1741. The simulator's 95% intervals must contain them, and be narrow
enough that containing them means something (a simulator off by a few points fails).

The seed is fixed, so the test is deterministic. The intervals are honest 95% ones: over
seeds 1-40 of this very setup, 95% of the service-level and wait-probability intervals
contained the Erlang C figures (measured when the test was written).
"""

from __future__ import annotations

import pytest

from acd.sim.model import Distribution, Model, Traffic
from acd.sim.run import Summary, simulate
from acd.sim.scenario import one_queue_config
from acd.staffing.erlang import erlang_c


@pytest.fixture(scope="module")
def mmn() -> Summary:
    model = Model(
        traffic=Traffic((100,), 1800),
        talk=Distribution(180),
        duration_seconds=8 * 3600,
        warmup_seconds=1800,
        target_seconds=20,
    )
    return simulate(one_queue_config(14), "general", model, replications=16, seed=1)


def test_erlang_c_figures_are_the_ones_the_test_is_about() -> None:
    theory = erlang_c(100, 1800, 180, 14, 20)
    assert theory.service_level == pytest.approx(0.8884, abs=1e-4)
    assert theory.wait_probability == pytest.approx(0.1741, abs=1e-4)


def test_service_level_interval_contains_erlang_c(mmn: Summary) -> None:
    assert mmn.service_level.contains(0.8884)
    assert mmn.service_level.half_width < 0.04


def test_wait_probability_interval_contains_erlang_c(mmn: Summary) -> None:
    assert mmn.wait_probability.contains(0.1741)
    assert mmn.wait_probability.half_width < 0.04


def test_asa_and_occupancy_intervals_contain_erlang_c(mmn: Summary) -> None:
    theory = erlang_c(100, 1800, 180, 14, 20)
    assert mmn.asa.contains(theory.asa)
    assert mmn.occupancy.contains(theory.occupancy)
    assert mmn.occupancy.half_width < 0.02


def test_nobody_abandons_or_is_left_over_without_patience(mmn: Summary) -> None:
    assert mmn.abandoned.mean == 0
    assert mmn.unfinished == 0
    # 100 calls per 30 minutes over 8 hours: 1,600 expected per replication.
    assert mmn.offered.contains(1600)
