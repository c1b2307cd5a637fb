"""Confidence intervals over independent replications (Student's t)."""

from __future__ import annotations

import math

import pytest

from acd.sim.stats import estimate, t_quantile_975


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706), (9, 2.262), (30, 2.042), (31, 2.0395), (60, 2.0003), (1000, 1.9623)],
)
def test_t_quantiles_match_the_tables(df: int, expected: float) -> None:
    assert t_quantile_975(df) == pytest.approx(expected, abs=5e-4)


def test_the_interval_is_mean_plus_minus_t_times_the_standard_error() -> None:
    result = estimate([1.0, 2.0, 3.0])
    assert result.mean == 2.0
    assert result.half_width == pytest.approx(4.303 / math.sqrt(3))
    assert result.contains(0.0) and not result.contains(4.5)


def test_one_replication_has_a_mean_but_no_interval() -> None:
    result = estimate([0.7])
    assert result.mean == 0.7 and math.isnan(result.half_width)
    assert result.as_dict() == {"mean": 0.7, "low": None, "high": None, "half_width": None}


def test_undefined_figures_are_left_out() -> None:
    # ASA of a replication in which nobody was answered is undefined, not zero.
    assert estimate([math.nan, 4.0, 6.0]).mean == 5.0
    assert estimate([math.nan]).as_dict()["mean"] is None


def test_a_confidence_interval_needs_two_replications() -> None:
    with pytest.raises(ValueError):
        t_quantile_975(0)
