"""What the simulated world draws: durations and arrivals."""

from __future__ import annotations

import random
from statistics import fmean, pstdev

import pytest

from acd.sim.model import Arrivals, Distribution, Model, Replay, Traffic


def draws(distribution: Distribution, n: int = 20_000) -> list[float]:
    rng = random.Random(5)
    return [distribution.sample(rng) for _ in range(n)]


def test_a_fixed_duration_is_always_its_mean() -> None:
    assert set(draws(Distribution(42.0, "fixed"), 10)) == {42.0}


@pytest.mark.parametrize(
    ("distribution", "cv"),
    [(Distribution(180.0), 1.0), (Distribution(180.0, "lognormal", cv=0.5), 0.5)],
)
def test_random_durations_have_the_mean_and_spread_asked_for(
    distribution: Distribution, cv: float
) -> None:
    values = draws(distribution)
    assert fmean(values) == pytest.approx(180.0, rel=0.03)
    assert pstdev(values) / fmean(values) == pytest.approx(cv, rel=0.05)
    assert min(values) > 0


def test_a_duration_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Distribution(0.0)


def arrival_times(model: Model, seed: int = 9) -> list[float]:
    arrivals = Arrivals(model, random.Random(seed))
    times = []
    while (at := arrivals.next()) is not None:
        times.append(at)
    return times


def model(traffic: Traffic | Replay, warmup: float = 0.0, hours: float = 2.0) -> Model:
    return Model(
        traffic=traffic,
        talk=Distribution(60),
        duration_seconds=hours * 3600,
        warmup_seconds=warmup,
    )


def test_poisson_arrivals_come_at_the_rate_asked_for() -> None:
    times = arrival_times(model(Traffic((1000,), 3600), hours=10))
    assert len(times) == pytest.approx(10_000, rel=0.03)
    assert times == sorted(times)
    assert times[-1] < 10 * 3600


def test_a_profile_sets_the_rate_of_each_period_and_the_last_one_holds() -> None:
    # Warm-up 10 min at the first figure (0), then 0 calls in the first half hour, then 600.
    times = arrival_times(model(Traffic((0, 600), 1800), warmup=600, hours=2))
    assert times and min(times) >= 600 + 1800
    in_last_hour = [t for t in times if t >= 600 + 3600]
    assert len(in_last_hour) == pytest.approx(1200, rel=0.1)


def test_the_warm_up_runs_at_the_first_periods_rate() -> None:
    times = arrival_times(model(Traffic((3600, 0), 3600), warmup=600, hours=2))
    assert len([t for t in times if t < 600]) == pytest.approx(600, rel=0.15)
    assert all(t < 600 + 3600 for t in times)


def test_a_replay_brings_the_callers_at_their_times_until_the_end() -> None:
    times = arrival_times(model(Replay((5.0, 5.0, 7200.0, 9000.0)), hours=2))
    assert times == [5.0, 5.0]


def test_replayed_times_must_be_in_order() -> None:
    with pytest.raises(ValueError):
        Replay((10.0, 5.0))
