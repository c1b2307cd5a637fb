"""Estimates with 95% confidence intervals from independent replications.

Why replications and not batch means: each replication is a fresh, independently seeded run
with its own warm-up, so its figures are independent and identically distributed, and the
Student-t interval over them is exact up to the normality of replication means (which holds
well for the averages of hundreds of calls each). That also holds for a day with an arrival
profile, which is not a steady state: batch means needs one long stationary run, whose
batches are only approximately independent and whose batch size must be tuned. The price is
one warm-up per replication, which is cheap next to the measured hours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev

# Student's t 0.975 quantiles for 1-30 degrees of freedom (two-sided 95%).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """Student's t 0.975 quantile: the table up to 30 degrees of freedom, then the
    Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5), which
    is within 1e-4 of the exact value from there on."""
    if df < 1:
        raise ValueError("a confidence interval needs at least two replications")
    if df <= len(_T975):
        return _T975[df - 1]
    z = NormalDist().inv_cdf(0.975)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its 95% interval; `half_width` is NaN for one run."""

    mean: float
    half_width: float
    replications: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def as_dict(self) -> dict[str, float | None]:
        """JSON-ready: NaN (undefined, or no interval from one run) becomes None."""
        finite = not math.isnan(self.half_width)
        return {
            "mean": None if math.isnan(self.mean) else self.mean,
            "low": self.low if finite else None,
            "high": self.high if finite else None,
            "half_width": self.half_width if finite else None,
        }


def estimate(values: Sequence[float]) -> Estimate:
    """Mean ± t(0.975, n-1) · s / √n over independent replications' values.

    Values that are NaN (a replication where the figure is undefined, such as ASA with no
    call answered) are left out.
    """
    present = [v for v in values if not math.isnan(v)]
    if not present:
        return Estimate(math.nan, math.nan, 0)
    if len(present) == 1:
        return Estimate(present[0], math.nan, 1)
    n = len(present)
    return Estimate(fmean(present), t_quantile_975(n - 1) * stdev(present) / math.sqrt(n), n)
