"""Statistics of per-utterance scores: bootstrap confidence intervals and paired tests between systems.

* Confidence interval of a mean: percentile bootstrap (Efron & Tibshirani, 1993), 2,000 resamples, seeded.
* Paired comparison of two systems on the same utterances: the Wilcoxon signed-rank test of the per-utterance
  differences (two-sided; exact null distribution for small samples without ties, as scipy chooses), with the
  mean difference and its paired bootstrap interval; p-values of the pairs of one metric are adjusted with
  Holm's step-down method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Estimate:
    """Mean of the finite values with its confidence interval [low, high]; n values used."""

    mean: float
    low: float
    high: float
    n: int


def finite(values) -> np.ndarray:
    array = np.asarray([v for v in values if v is not None], dtype=float)
    return array[np.isfinite(array)]


def bootstrap_mean(values, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> Estimate:
    """Mean and percentile-bootstrap interval of ``values`` (NaN and None dropped; NaN estimate if none)."""
    data = finite(values)
    if data.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    if data.size == 1:
        return Estimate(float(data[0]), float(data[0]), float(data[0]), 1)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)  # (resamples,)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size))


@dataclass
class PairedTest:
    """System a minus system b on ``n`` common utterances: mean difference, its interval and p-values."""

    mean_difference: float
    low: float
    high: float
    n: int
    p_value: float
    p_adjusted: float = math.nan


def paired_test(a: dict[str, float], b: dict[str, float], seed: int = 0) -> PairedTest:
    """Wilcoxon signed-rank test and bootstrap interval of a - b over the keys (utterance ids) both have."""
    from scipy.stats import wilcoxon

    keys = sorted(k for k in set(a) & set(b) if np.isfinite(a[k]) and np.isfinite(b[k]))
    differences = np.array([a[k] - b[k] for k in keys], dtype=float)
    estimate = bootstrap_mean(differences, seed=seed)
    if differences.size == 0:
        p_value = math.nan
    elif np.all(differences == 0):
        p_value = 1.0
    else:
        p_value = float(wilcoxon(differences, zero_method="wilcox", alternative="two-sided").pvalue)
    return PairedTest(estimate.mean, estimate.low, estimate.high, estimate.n, p_value)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (NaN stays NaN)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if np.isfinite(p))
    adjusted = [math.nan] * len(p_values)
    running, m = 0.0, len(indexed)
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
