"""PCA process monitoring: Hotelling's T² in the principal subspace and Q (SPE) in the residual
subspace, each with a control limit at confidence `alpha` (99% by default), fitted on normal data.

Formulas (Jackson 1991; Chiang, Russell & Braatz 2001, ch. 4), for n training rows, k retained
components with variances λ_1..λ_k and discarded variances λ_{k+1}..λ_p:

* T²(x) = Σ_{j≤k} t_j² / λ_j with t = P_kᵀ x (x standardised with the training mean and std);
  limit T²_α = k (n-1)(n+1) / (n (n-k)) · F_α(k, n-k).
* Q(x) = ||x - P_k P_kᵀ x||²; Jackson–Mudholkar limit with θ_i = Σ_{j>k} λ_j^i,
  h0 = 1 - 2 θ1 θ3 / (3 θ2²):  Q_α = θ1 [ z_α √(2 θ2 h0²) / θ1 + 1 + θ2 h0 (h0-1) / θ1² ]^{1/h0}.
  `q_limit="box"` gives Box's approximation g χ²_α(h) with g = θ2/θ1, h = θ1²/θ2.
  `q_limit="skab"` reproduces the SKAB repository's variant (waico/SKAB `core/t2.py`), which raises
  the *sum* of the discarded eigenvalues to the i-th power (θ_i = (Σ λ_j)^i) instead of summing
  powers; it is there only to show what the leaderboard's T²+Q row used.

scikit-learn's PCA does the decomposition; the eigenvalues are its `explained_variance_` (the
n-1 normalised covariance), and the discarded ones come from the full spectrum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA

from ..utils import check_2d

__all__ = ["PCAMonitor", "t2_limit", "q_limit"]

Q_LIMITS = ("jackson-mudholkar", "box", "skab")


def t2_limit(n_samples: int, n_components: int, alpha: float = 0.99) -> float:
    """Upper control limit of T² for a new observation: k(n-1)(n+1)/(n(n-k)) F_α(k, n-k)."""
    n, k = int(n_samples), int(n_components)
    if not 0 < k < n:
        raise ValueError(f"need 0 < n_components < n_samples, got k={k}, n={n}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return float(k * (n - 1) * (n + 1) / (n * (n - k)) * stats.f.ppf(alpha, k, n - k))


def q_limit(discarded_eigenvalues: Any, alpha: float = 0.99, method: str = "jackson-mudholkar") -> float:
    """Upper control limit of Q (SPE) from the eigenvalues of the discarded components."""
    lam = np.asarray(discarded_eigenvalues, dtype=np.float64)
    if method not in Q_LIMITS:
        raise ValueError(f"method must be one of {Q_LIMITS}, got {method!r}")
    if lam.ndim != 1 or len(lam) == 0 or (lam < 0).any() or lam.sum() <= 0:
        raise ValueError("need at least one discarded eigenvalue, all ≥ 0 and not all 0")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if method == "skab":
        theta = [lam.sum() ** i for i in (1, 2, 3)]
    else:
        theta = [float((lam**i).sum()) for i in (1, 2, 3)]
    t1, t2, t3 = theta
    if method == "box":
        g, h = t2 / t1, t1**2 / t2
        return float(g * stats.chi2.ppf(alpha, h))
    h0 = 1.0 - 2.0 * t1 * t3 / (3.0 * t2**2)
    z = stats.norm.ppf(alpha)
    return float(t1 * (z * np.sqrt(2.0 * t2 * h0**2) / t1 + 1.0 + t2 * h0 * (h0 - 1.0) / t1**2) ** (1.0 / h0))


class PCAMonitor:
    """PCA-based T² and Q monitoring, fitted on normal operating data.

    `n_components`: an int, or a float in (0, 1) for the smallest k whose components explain that
    share of the variance (SKAB's T²+Q uses 0.85). `scale=True` standardises each variable with the
    training mean and std first (the usual choice for TEP; a constant variable is only centred).
    Fitted attributes: `pca_`, `n_components_`, `eigenvalues_` (all p of them), `t2_limit_`,
    `q_limit_`, `mean_`, `scale_`.
    """

    def __init__(
        self,
        n_components: int | float = 0.85,
        alpha: float = 0.99,
        scale: bool = True,
        q_limit: str = "jackson-mudholkar",
    ) -> None:
        if q_limit not in Q_LIMITS:
            raise ValueError(f"q_limit must be one of {Q_LIMITS}, got {q_limit!r}")
        self.n_components = n_components
        self.alpha = alpha
        self.scale = scale
        self.q_limit = q_limit

    def _check(self, X: Any, fitting: bool = False) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float64)
        check_2d(arr, "X", layout="(n_samples, n_variables)")
        if not fitting and arr.shape[1] != len(self.mean_):
            raise ValueError(f"X has {arr.shape[1]} variables, the monitor was fitted on {len(self.mean_)}")
        return arr

    def fit(self, X: Any) -> PCAMonitor:
        arr = self._check(X, fitting=True)
        n, p = arr.shape
        if n < 3 or p < 2:
            raise ValueError(f"need ≥ 3 samples and ≥ 2 variables to fit, got shape {arr.shape}")
        self.mean_ = arr.mean(axis=0)
        std = arr.std(axis=0, ddof=1)
        self.scale_ = np.where(std > 1e-12, std, 1.0) if self.scale else np.ones(p)
        Z = (arr - self.mean_) / self.scale_
        full = PCA(svd_solver="full").fit(Z)
        self.eigenvalues_ = full.explained_variance_.copy()
        k = self.n_components
        if isinstance(k, float) and 0.0 < k < 1.0:
            k = int(np.searchsorted(np.cumsum(full.explained_variance_ratio_), k) + 1)
        if not isinstance(k, (int, np.integer)) or not 1 <= k < min(n, p):
            raise ValueError(
                f"n_components must be an int in 1..{min(n, p) - 1} or a float in (0, 1), got {self.n_components!r}"
            )
        self.n_components_ = int(k)
        self.pca_ = PCA(n_components=self.n_components_, svd_solver="full").fit(Z)
        self.t2_limit_ = t2_limit(n, self.n_components_, self.alpha)
        self.q_limit_ = q_limit(self.eigenvalues_[self.n_components_ :], self.alpha, self.q_limit)
        return self

    def _standardise(self, X: Any) -> np.ndarray:
        if not hasattr(self, "pca_"):
            raise ValueError("PCAMonitor is not fitted; call fit(X_normal) first")
        return (self._check(X) - self.mean_) / self.scale_

    def t2(self, X: Any) -> np.ndarray:
        """Hotelling's T² of every row in the principal subspace."""
        Z = self._standardise(X)
        scores = self.pca_.transform(Z)
        return (scores**2 / self.pca_.explained_variance_).sum(axis=1)

    def q(self, X: Any) -> np.ndarray:
        """Q (squared prediction error) of every row: its squared distance to the principal subspace."""
        Z = self._standardise(X)
        P = self.pca_.components_.T
        resid = Z - self.pca_.mean_ - (Z - self.pca_.mean_) @ P @ P.T
        return (resid**2).sum(axis=1)

    def predict(self, X: Any, statistic: str = "t2+q") -> np.ndarray:
        """1 where the statistic exceeds its limit ("t2", "q", or "t2+q": either one), else 0."""
        if statistic == "t2":
            return (self.t2(X) > self.t2_limit_).astype(np.int64)
        if statistic == "q":
            return (self.q(X) > self.q_limit_).astype(np.int64)
        if statistic == "t2+q":
            return ((self.t2(X) > self.t2_limit_) | (self.q(X) > self.q_limit_)).astype(np.int64)
        raise ValueError(f"statistic must be 't2', 'q' or 't2+q', got {statistic!r}")

    def score_samples(self, X: Any) -> np.ndarray:
        """A continuous score for ROC curves: max(T²/T²_α, Q/Q_α), above 1 exactly when flagged."""
        return np.maximum(self.t2(X) / self.t2_limit_, self.q(X) / self.q_limit_)
