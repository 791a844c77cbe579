"""Causal building blocks of process monitoring: lagged (dynamic) data, score smoothing, limits at
a false-alarm rate, and detection delay. "Causal" means the value at time t uses samples ≤ t only
(each function has a test that changing the future leaves the past unchanged).

* DPCA (Ku, Storer & Georgakis 1995) is PCA on `lag_matrix(X, l)`: every row stacked with its l
  predecessors, so the model sees the process's autocorrelation; 2 lags is the usual TEP choice.
* `trailing_mean(score, n)`: the mean of the last n scores, a smoothing that trades a delay of about
  n/2 samples for fewer false alarms on noisy statistics.
* `detection_delay`: samples from the fault's start until `confirm` consecutive flags begin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["lag_matrix", "trailing_mean", "decided_trailing_mean", "limit_at_far", "detection_delay"]


def lag_matrix(X: Any, lags: int) -> np.ndarray:
    """Rows [x_t, x_{t-1}, …, x_{t-lags}] for t = lags … n-1: `(n, p)` → `(n - lags, p (lags + 1))`."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"X must be (n_samples, n_variables), got shape {arr.shape}")
    if not isinstance(lags, (int, np.integer)) or lags < 0:
        raise ValueError(f"lags must be an integer ≥ 0, got {lags!r}")
    if arr.shape[0] <= lags:
        raise ValueError(f"need more than {lags} samples for {lags} lags, got {arr.shape[0]}")
    n = arr.shape[0] - lags
    return np.hstack([arr[lags - j : lags - j + n] for j in range(lags + 1)])


def trailing_mean(score: Any, n: int) -> np.ndarray:
    """Mean of the last `n` values at every t (fewer at the start: the mean of what has been seen)."""
    s = np.asarray(score, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"score must be 1-D, got shape {s.shape}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer ≥ 1, got {n!r}")
    csum = np.concatenate([[0.0], np.cumsum(s)])
    t = np.arange(1, len(s) + 1)
    lo = np.maximum(t - n, 0)
    return (csum[t] - csum[lo]) / (t - lo)


def decided_trailing_mean(stat: Any, n: int) -> np.ndarray:
    """`trailing_mean` of a run's statistic after its undecided (NaN) first samples, which stay NaN
    (a windowed or lagged statistic has none until its first window is full)."""
    s = np.asarray(stat, dtype=np.float64)
    start = int(np.isnan(s).sum())
    return np.concatenate([s[:start], trailing_mean(s[start:], n)])


def limit_at_far(normal_scores: Any, far: float) -> float:
    """The threshold that flags a share `far` of `normal_scores` (their 1 − far quantile)."""
    s = np.asarray(normal_scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0:
        raise ValueError("normal_scores holds no finite value")
    if not 0.0 < far < 1.0:
        raise ValueError(f"far must lie in (0, 1), got {far}")
    return float(np.quantile(s, 1.0 - far))


def detection_delay(flags: Any, start: int, confirm: int = 1) -> float:
    """Samples from `start` (the fault's first sample) until the first run of `confirm` consecutive
    flags that begins at or after it; NaN when there is none. 0 = flagged at once."""
    f = np.nan_to_num(np.asarray(flags, dtype=np.float64), nan=0.0) > 0.5
    if f.ndim != 1:
        raise ValueError(f"flags must be 1-D, got shape {f.shape}")
    if not 0 <= start < len(f):
        raise ValueError(f"start must lie in 0..{len(f) - 1}, got {start}")
    if confirm < 1:
        raise ValueError(f"confirm must be ≥ 1, got {confirm}")
    after = f[start:].astype(np.int64)
    if len(after) < confirm:
        return float("nan")
    runs = np.convolve(after, np.ones(confirm, dtype=np.int64), mode="valid")
    hits = np.flatnonzero(runs == confirm)
    return float(hits[0]) if hits.size else float("nan")
