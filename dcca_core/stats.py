"""Bootstrap confidence intervals over the units a result is averaged over (faults, runs, seeds).

A mean over 21 Tennessee Eastman faults or a pooled F1 over 34 SKAB runs is one number from a
small, uneven set of units; resampling the units says how much it could move. Percentile bootstrap
(Efron & Tibshirani 1993, ch. 13) via `scipy.stats.bootstrap`, seeded, so the same inputs always
give the same interval. Paired versions resample the *same* units for both detectors, which is
what a comparison on one benchmark needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Interval", "bootstrap_mean", "paired_difference", "unit_bootstrap"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap interval at `level` over `n` resampled units."""

    estimate: float
    low: float
    high: float
    level: float
    n: int

    def excludes(self, value: float = 0.0) -> bool:
        """Whether `value` lies outside the interval (e.g. a difference that is not zero)."""
        return bool(value < self.low or value > self.high)

    def as_dict(self, prefix: str) -> dict[str, float]:
        """`{prefix: estimate, prefix_ci_low: low, prefix_ci_high: high}` for a results file."""
        return {prefix: self.estimate, f"{prefix}_ci_low": self.low, f"{prefix}_ci_high": self.high}

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _check(level: float, n_resamples: int) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_resamples < 100:
        raise ValueError(f"n_resamples must be ≥ 100 for a usable interval, got {n_resamples}")


def _values(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or len(arr) < 2:
        raise ValueError(f"{name} must be a 1-d sequence of at least 2 values, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values at positions {np.flatnonzero(~np.isfinite(arr))[:5]}")
    return arr


def unit_bootstrap(
    n_units: int,
    statistic: Callable[[np.ndarray], float],
    *,
    level: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Interval for `statistic(units)`, where `units` is an index array into `n_units` units resampled
    with replacement; use it when the statistic is not a plain mean (a pooled F1 over runs, say).
    The estimate is `statistic(arange(n_units))`."""
    from scipy.stats import bootstrap

    _check(level, n_resamples)
    if n_units < 2:
        raise ValueError(f"need at least 2 units to resample, got {n_units}")
    units = np.arange(n_units)
    res = bootstrap(
        (units,),
        lambda idx: float(statistic(np.asarray(idx, dtype=np.int64))),
        vectorized=False,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return Interval(float(statistic(units)), float(ci.low), float(ci.high), level, n_units)


def bootstrap_mean(values: Any, *, level: float = 0.95, n_resamples: int = 10_000, seed: int = 0) -> Interval:
    """Mean of `values` (one per unit: fault, run, seed) with its percentile-bootstrap interval."""
    from scipy.stats import bootstrap

    _check(level, n_resamples)
    arr = _values("values", values)
    if np.ptp(arr) == 0:  # every resample has the same mean; scipy warns and returns NaN here
        return Interval(float(arr[0]), float(arr[0]), float(arr[0]), level, len(arr))
    res = bootstrap(
        (arr,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return Interval(float(arr.mean()), float(ci.low), float(ci.high), level, len(arr))


def paired_difference(a: Any, b: Any, *, level: float = 0.95, n_resamples: int = 10_000, seed: int = 0) -> Interval:
    """Mean of `a − b` over paired units (the same faults or runs for both), with its bootstrap
    interval: if the interval excludes 0, the benchmark separates the two."""
    x, y = _values("a", a), _values("b", b)
    if len(x) != len(y):
        raise ValueError(f"a and b must pair up, got {len(x)} and {len(y)} values")
    return bootstrap_mean(x - y, level=level, n_resamples=n_resamples, seed=seed)
