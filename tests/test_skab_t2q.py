"""SKAB's T²+Q detector: the leaderboard row reproduced exactly, and its details on small data."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dcca_core.anomaly.detection_metrics import skab_scores
from dcca_core.anomaly.nab import nab_scores
from dcca_core.anomaly.skab_t2q import SkabT2Q, _grid_quantile


def _normal(n=400, p=6, seed=0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(p, p))
    return pd.DataFrame(rng.normal(size=(n, p)) @ mixing, columns=[f"c{i}" for i in range(p)])


def test_the_leaderboard_rows_are_reproduced_on_the_34_runs():
    from dcca_core.data import load_skab

    skab = load_skab()
    assert len(skab.experiments) == 34
    y_true, y_pred, cps, times = [], [], [], []
    for frame in skab.experiments.values():
        X, y = frame[skab.channels], frame["anomaly"].to_numpy()
        y_pred.append(SkabT2Q().fit(X.iloc[:400]).predict(X.iloc[400:]))  # SKAB: first 400 rows train
        y_true.append(y[400:])
        cps.append(frame["changepoint"].to_numpy()[400:].astype(int))
        stamps = pd.DatetimeIndex(frame.index[400:])
        times.append((stamps - stamps[0]).total_seconds().to_numpy())
    scores = skab_scores(y_true, y_pred)
    # SKAB README leaderboard, "T-squared+Q (PCA)": F1 0.76, FAR 26.62 %, MAR 24.92 %
    assert round(scores["f1"], 2) == 0.76 and round(scores["far"], 2) == 26.62 and round(scores["mar"], 2) == 24.92
    # ... and on the changepoint task (60 s to the right): NAB standard 25.35, low FP 14.51, low FN 31.33
    nab = nab_scores(cps, [np.asarray(p, dtype=float) for p in y_pred], times)
    assert [round(nab[k], 2) for k in ("standard", "low_fp", "low_fn")] == [25.35, 14.51, 31.33]


def test_grid_quantiles_sit_just_below_the_exact_ones():
    z = _grid_quantile(stats.norm.cdf, 0.999)
    assert z < stats.norm.ppf(0.999) < z + 15 / 9999
    f = _grid_quantile(lambda g: stats.f.cdf(g, 3, 397), 0.999)
    assert f < stats.f.ppf(0.999, 3, 397) < f + 15 / 9999


def test_replica_q_limit_uses_the_power_of_the_sum_and_the_corrected_one_jackson_mudholkar():
    X = _normal()
    replica, fixed = SkabT2Q().fit(X), SkabT2Q(corrected=True).fit(X)
    assert replica.n_components_ == fixed.n_components_ < X.shape[1]
    # θᵢ = (Σλ)ⁱ makes h0 = 1/3 whatever the spectrum: Q_lim = θ1 (1 + z h0 √(2) + 2 h0 (h0 - 1)/... )^3
    s = replica.discarded_eigenvalues_.sum()
    z = _grid_quantile(stats.norm.cdf, 0.999)
    h0 = 1 / 3
    expected = s * (1 + z * h0 * np.sqrt(2 * s**2) / s + s**2 * h0 * (h0 - 1) / s**2) ** 3
    assert replica.q_limit_ == pytest.approx(expected, rel=1e-12)
    lam = fixed.discarded_eigenvalues_
    assert np.all(np.diff(lam) <= 0) and len(lam) == X.shape[1] - fixed.n_components_
    assert fixed.q_limit_ != pytest.approx(replica.q_limit_)


def test_constant_columns_are_dropped_and_the_first_rows_are_never_alarms():
    X = _normal()
    X["flat"] = 3.0
    model = SkabT2Q(window_size=5).fit(X)
    assert "flat" not in model.columns_
    test = X.copy()
    test.iloc[:] = test.to_numpy() * 50  # every row far outside normal
    alarms = model.predict(test)
    assert alarms[:4].tolist() == [0, 0, 0, 0] and alarms[4:].all()  # the trailing median needs 5 rows
    t2, q = model.statistics(X)
    assert t2.shape == q.shape == (len(X),) and (q >= -1e-9).all()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="explained_variance"):
        SkabT2Q(explained_variance=1.5)
    with pytest.raises(ValueError, match="not fitted"):
        SkabT2Q().predict(_normal())
    with pytest.raises(ValueError, match="NaN"):
        SkabT2Q().fit(_normal().assign(c0=np.nan))
    with pytest.raises(ValueError, match="lacks the training columns"):
        SkabT2Q().fit(_normal()).predict(_normal().drop(columns="c1"))
