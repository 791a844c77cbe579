"""SKAB's T²+Q leaderboard detector, reproduced exactly, and the same detector with its defects fixed.

The SKAB leaderboard's "T-squared+Q (PCA)" row (F1 0.76, FAR 26.62 %, MAR 24.92 %) comes from the
repository's own implementation (waico/SKAB, `core/t2.py` at b2c0d46, run by its notebook
`t2_with_q_SKAB.ipynb`): per run, fit on the first 400 rows, standardise, keep the principal
components explaining 85 % of the variance, limits at p = 0.999, a trailing 5-point median on both
statistics, and an alarm where T² or Q is above its limit. Four details of that code move its
numbers, and `SkabT2Q` keeps them (`corrected=False`):

* the Q limit raises the *sum* of the discarded eigenvalues to the i-th power, θᵢ = (Σλ)ⁱ, where
  Jackson & Mudholkar (1979) sum the powers, θᵢ = Σλⁱ (so h₀ = 1/3 always);
* the "discarded" eigenvalues are the tail of `numpy.linalg.eig`'s output, which is not sorted, so
  they are not the smallest ones;
* both quantiles are read off a grid (`linspace(0, 15, 10000)`, the last point below p);
* constant training columns are dropped.

`corrected=True` uses the sorted spectrum, Jackson–Mudholkar's θᵢ and exact quantiles: the same
detector as the monitoring literature defines it (Chiang, Russell & Braatz 2001, ch. 4).
This is our own code, written from a reading of SKAB's; no line of it is copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.decomposition import PCA

__all__ = ["SkabT2Q"]

_GRID = np.linspace(0.0, 15.0, 10000)


def _grid_quantile(cdf: Any, p: float) -> float:
    """The largest grid point whose cdf is below p, as SKAB's code finds its quantiles."""
    below = _GRID[cdf(_GRID) < p]
    return float(below[-1])


class SkabT2Q:
    """Hotelling's T² in the principal subspace plus Q in the residual one, with SKAB's recipe.

    `fit(X_train)` on normal rows (a DataFrame or a 2-D array), then `predict(X)` gives 0/1 alarms
    (the first `window_size - 1` rows, where the trailing median is undefined, are 0, as in SKAB's
    notebook). `statistics(X)` gives the raw (T², Q) before the median filter.
    """

    def __init__(
        self, explained_variance: float = 0.85, p_value: float = 0.999, window_size: int = 5, corrected: bool = False
    ) -> None:
        if not 0.0 < explained_variance < 1.0:
            raise ValueError(f"explained_variance must lie in (0, 1), got {explained_variance}")
        if not 0.5 < p_value < 1.0:
            raise ValueError(f"p_value must lie in (0.5, 1), got {p_value}")
        if int(window_size) < 1:
            raise ValueError(f"window_size must be ≥ 1, got {window_size}")
        self.explained_variance = explained_variance
        self.p_value = p_value
        self.window_size = int(window_size)
        self.corrected = bool(corrected)

    @staticmethod
    def _frame(X: Any) -> pd.DataFrame:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=np.float64))
        if frame.ndim != 2 or frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(f"X must be a non-empty 2-D table, got shape {frame.shape}")
        if not np.isfinite(frame.to_numpy(dtype=np.float64)).all():
            raise ValueError("X contains NaN or infinite values")
        return frame

    def fit(self, X: Any) -> SkabT2Q:
        """Drop constant columns, standardise, PCA at `explained_variance`, and both control limits."""
        frame = self._frame(X)
        varying = frame.columns[(frame != frame.iloc[0]).any()]
        if len(varying) < 2:
            raise ValueError(f"need at least two non-constant columns, got {len(varying)}")
        self.columns_ = list(varying)
        x = frame[self.columns_].to_numpy(dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0)  # StandardScaler: the population sd
        xs = (x - self.mean_) / self.scale_
        n, p = xs.shape
        self.pca_ = PCA(n_components=self.explained_variance).fit(xs)
        k = self.n_components_ = int(self.pca_.n_components_)
        if k >= p:
            raise ValueError(f"{k} components explain {self.explained_variance:.0%} of {p} columns: no residual space")
        scores = self.pca_.transform(xs)
        self.inv_cov_ = np.linalg.inv(np.cov(scores.T))
        basis = self.pca_.components_.T
        self.residual_projector_ = np.eye(p) - basis @ basis.T
        factor = k * (n - 1) * (n + 1) / (n * (n - k))
        if self.corrected:
            f_quantile = float(stats.f.ppf(self.p_value, k, n - k))
            z = float(stats.norm.ppf(self.p_value))
            eig = np.sort(np.linalg.eigvalsh(np.cov(xs.T)))[::-1]
            discarded = eig[k:]
            theta = [float((discarded**i).sum()) for i in (1, 2, 3)]
        else:
            f_quantile = _grid_quantile(lambda g: stats.f.cdf(g, k, n - k), self.p_value)
            z = _grid_quantile(stats.norm.cdf, self.p_value)
            eig = np.real(np.linalg.eig(np.cov(xs.T))[0])  # unsorted, as SKAB's code takes them
            discarded = eig[k:]
            theta = [float(discarded.sum()) ** i for i in (1, 2, 3)]
        self.discarded_eigenvalues_ = discarded
        self.t2_limit_ = float(factor * f_quantile)
        t1, t2, t3 = theta
        h0 = 1.0 - 2.0 * t1 * t3 / (3.0 * t2**2)
        self.q_limit_ = float(t1 * (1.0 + z * h0 * np.sqrt(2.0 * t2) / t1 + t2 * h0 * (h0 - 1.0) / t1**2) ** (1.0 / h0))
        return self

    def statistics(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(T², Q) of every row of X, before the median filter."""
        if not hasattr(self, "pca_"):
            raise ValueError("this SkabT2Q is not fitted yet; call fit(X_train) first")
        frame = self._frame(X)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise ValueError(f"X lacks the training columns {missing}")
        xs = (frame[self.columns_].to_numpy(dtype=np.float64) - self.mean_) / self.scale_
        scores = self.pca_.transform(xs)
        t2 = np.einsum("ij,jk,ik->i", scores, self.inv_cov_, scores)
        q = np.einsum("ij,jk,ik->i", xs, self.residual_projector_, xs)
        return t2, q

    def filtered(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """The trailing `window_size`-point medians of T² and Q (NaN until the window is full)."""
        t2, q = self.statistics(X)
        w = self.window_size
        return pd.Series(t2).rolling(w).median().to_numpy(), pd.Series(q).rolling(w).median().to_numpy()

    def alarms(self, t2_median: np.ndarray, q_median: np.ndarray) -> np.ndarray:
        """0/1 alarms from `filtered`'s medians: T² or Q above its limit."""
        with np.errstate(invalid="ignore"):
            alarm = (t2_median > self.t2_limit_) | (q_median > self.q_limit_)
        return alarm.astype(np.int64)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 alarms: the trailing `window_size`-point median of T² or of Q above its limit."""
        return self.alarms(*self.filtered(X))
