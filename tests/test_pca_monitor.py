"""PCA T²/Q monitoring: control limits on hand-checkable cases, the statistics against their
definitions, and the 99% limits' false-alarm rate on fresh normal data."""

import numpy as np
import pytest
from scipy import stats

from dcca_core.anomaly.pca_monitor import PCAMonitor, q_limit, t2_limit


def test_t2_limit_one_component_is_a_squared_t_quantile():
    # k = 1: F_α(1, ν) = t_{(1+α)/2}(ν)², so the limit is (n-1)(n+1)/(n(n-1)) · t² = (n+1)/n · t²
    n = 11
    expected = 12 / 11 * stats.t.ppf(0.995, 10) ** 2
    assert t2_limit(n, 1, 0.99) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(10.957, abs=1e-3)


def test_q_limit_single_discarded_eigenvalue():
    lam, z = 2.0, stats.norm.ppf(0.99)
    # θ_i = λ^i → h0 = 1/3 → Q_α = λ (7/9 + z √2 / 3)³ (the Wilson–Hilferty cube of χ²_1)
    assert q_limit([lam], 0.99) == pytest.approx(lam * (7 / 9 + z * np.sqrt(2) / 3) ** 3, rel=1e-12)
    # Box: g = λ, h = 1 → λ χ²_α(1) exactly; Jackson–Mudholkar is within 1% of it
    assert q_limit([lam], 0.99, "box") == pytest.approx(lam * stats.chi2.ppf(0.99, 1), rel=1e-12)
    assert q_limit([lam], 0.99) == pytest.approx(q_limit([lam], 0.99, "box"), rel=0.01)


def test_skab_variant_differs_from_jackson_mudholkar_when_several_eigenvalues_are_discarded():
    lam = [1.0, 1.0]
    # correct θ = (2, 2, 2) gives h0 = 1/3; SKAB's θ = (2, 4, 8) gives h0 = 1 - 2·2·8/(3·16) = 1/3 as well,
    # but θ2 doubles, so its limit is higher
    z = stats.norm.ppf(0.99)
    jm = 2 * (z * np.sqrt(2 * 2 / 9) / 2 + 1 + 2 * (1 / 3) * (-2 / 3) / 4) ** 3
    sk = 2 * (z * np.sqrt(2 * 4 / 9) / 2 + 1 + 4 * (1 / 3) * (-2 / 3) / 4) ** 3
    assert q_limit(lam, 0.99) == pytest.approx(jm, rel=1e-12)
    assert q_limit(lam, 0.99, "skab") == pytest.approx(sk, rel=1e-12)
    assert sk > jm


def _correlated(n, rng):
    latent = rng.normal(size=(n, 2))
    mix = np.array([[1.0, 0.5, 0.2, 0.0, 0.3], [0.0, 0.4, 1.0, 0.8, 0.1]])
    return latent @ mix + 0.3 * rng.normal(size=(n, 5))


def test_statistics_match_their_definitions():
    rng = np.random.default_rng(0)
    X = _correlated(400, rng)
    mon = PCAMonitor(n_components=2, scale=True).fit(X)
    assert mon.n_components_ == 2 and mon.eigenvalues_.shape == (5,)
    # over the training rows, the mean of t_j² / λ_j is (n-1)/n per component
    assert mon.t2(X).mean() == pytest.approx(2 * 399 / 400, rel=1e-9)
    # T² over k = p-1 components plus Q/λ_p equals the Mahalanobis distance (ddof=1 covariance)
    full = PCAMonitor(n_components=4, scale=True).fit(X)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    maha = np.einsum("ij,jk,ik->i", Z, np.linalg.inv(np.cov(Z.T)), Z)
    np.testing.assert_allclose(full.t2(X) + full.q(X) / full.eigenvalues_[4], maha, rtol=1e-8)
    # Q is the squared distance to the principal subspace: zero for a point inside it
    inside = mon.mean_ + mon.scale_ * (3.0 * mon.pca_.components_[0])
    assert mon.q(inside[None])[0] == pytest.approx(0.0, abs=1e-18)


def test_variance_share_picks_the_smallest_sufficient_k():
    rng = np.random.default_rng(1)
    X = _correlated(300, rng)
    mon = PCAMonitor(n_components=0.85).fit(X)
    ratios = np.cumsum(mon.eigenvalues_) / mon.eigenvalues_.sum()
    k = mon.n_components_
    assert ratios[k - 1] >= 0.85 and (k == 1 or ratios[k - 2] < 0.85)


def test_99_percent_limits_give_about_one_percent_false_alarms_on_fresh_normal_data():
    rng = np.random.default_rng(2)
    mon = PCAMonitor(n_components=2, alpha=0.99).fit(_correlated(5000, rng))
    fresh = _correlated(20000, rng)
    assert 0.005 < mon.predict(fresh, "t2").mean() < 0.016
    assert 0.005 < mon.predict(fresh, "q").mean() < 0.016
    both = mon.predict(fresh)
    assert both.mean() >= max(mon.predict(fresh, "t2").mean(), mon.predict(fresh, "q").mean())
    np.testing.assert_array_equal(both, (mon.score_samples(fresh) > 1).astype(int))
    # a shifted process is flagged far more often
    assert mon.predict(fresh + np.array([0, 0, 0, 3.0, 0])).mean() > 0.5


def test_bad_input_is_named():
    X = _correlated(50, np.random.default_rng(3))
    with pytest.raises(ValueError, match="n_components"):
        PCAMonitor(n_components=5).fit(X)
    with pytest.raises(ValueError, match="q_limit"):
        PCAMonitor(q_limit="exact")
    with pytest.raises(ValueError, match="not fitted"):
        PCAMonitor().t2(X)
    with pytest.raises(ValueError, match="variables"):
        PCAMonitor(n_components=2).fit(X).q(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        PCAMonitor().fit(np.where(X > 2, np.nan, X))
    with pytest.raises(ValueError, match="statistic"):
        PCAMonitor(n_components=2).fit(X).predict(X, "spe")
    with pytest.raises(ValueError, match="alpha"):
        t2_limit(10, 2, 1.5)
