"""Set-up B's classical monitors on a small synthetic plant: normal-only fitting, causal statistics,
both operating points, delays."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dcca_core.experiments.tep_monitor import FAULT_START, MONITORS, MonitorSetup, monitor_labels, run_tep_monitors


def _plant(seed=0, n_test=400):
    """d00 (300 samples of 5 correlated variables) and three test runs: 0 normal, 1 with a large
    shift from sample 160, 2 with a fault that changes nothing (undetectable)."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(5, 5))

    def normal(n):
        return rng.normal(size=(n, 5)) @ mix

    test = [normal(n_test) for _ in range(3)]
    test[1][FAULT_START:, 0] += 25.0
    return SimpleNamespace(
        train_X=normal(300),
        train_run=np.zeros(300, dtype=np.int8),
        test_X=np.concatenate(test),
        test_run=np.repeat(np.arange(3, dtype=np.int8), n_test),
    )


def test_monitors_find_the_shift_not_the_null_fault_at_the_stated_false_alarm_rate():
    result = run_tep_monitors(_plant(), MonitorSetup(faults=[1, 2], pca_components=3))
    for name in MONITORS:
        far = result.at_far(name)
        assert far["far"] == pytest.approx(0.05, abs=0.01)  # the oracle point flags 5 % of d00_te
        assert far["fdr"][1] > 0.99 and far["fdr"][2] < 0.2
        assert far["delay"][1] <= 3 and far["fdr_wo_3_9_15"] == far["fdr_mean"]  # no hard faults here
    assert result.n_components == {"pca": 3, "dpca": 3}
    table = result.table()
    assert list(table.index) == list(MONITORS.values()) and table.shape[1] == 7
    m = result.metrics()
    assert m["tep_dpca_fdr_at_far5"] == pytest.approx(result.at_far("dpca")["fdr_mean"])
    assert result.per_fault().shape == (2, 4)


def test_table_names_follow_the_setup():
    assert MONITORS["dpca_mean"] == "DPCA T²+Q (2 lags), mean of 10"  # the defaults
    result = run_tep_monitors(_plant(), MonitorSetup(faults=[1], pca_components=3, lags=1, smoothing=5))
    assert result.labels == monitor_labels(result.setup)
    assert list(result.table().index) == [
        "PCA T²+Q",
        "PCA T²+Q, mean of 5",
        "DPCA T²+Q (1 lag)",
        "DPCA T²+Q (1 lag), mean of 5",
    ]


def test_every_statistic_is_causal():
    data = _plant()
    setup = MonitorSetup(faults=[1, 2], pca_components=3)
    before = run_tep_monitors(data, setup)
    rows = np.flatnonzero(data.test_run == 1)[300:]
    data.test_X[rows] += 1000.0
    after = run_tep_monitors(data, setup)
    for name in MONITORS:
        np.testing.assert_array_equal(before.scores[name][1][:300], after.scores[name][1][:300])
        assert not np.array_equal(before.scores[name][1][300:], after.scores[name][1][300:])
    # DPCA has no statistic before its lags are filled
    assert np.isnan(before.scores["dpca"][1][: setup.lags]).all() and np.isfinite(before.scores["dpca"][1][2:]).all()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="faults"):
        run_tep_monitors(_plant(), MonitorSetup(faults=[22]))
    with pytest.raises(ValueError, match="lags"):
        MonitorSetup(lags=0)


def test_deep_monitors_join_the_table_trained_on_normal_windows_only(monkeypatch):
    from dcca_core.experiments.tep_monitor import add_deep_monitors
    from dcca_core.training import topk_dcca

    data = _plant(n_test=220)
    result = run_tep_monitors(data, MonitorSetup(faults=[1, 2], pca_components=3))
    seen = []
    original = topk_dcca.TopKDCCA.fit

    def spy(self, X, y=None):
        seen.append(X.shape)
        return original(self, X, y)

    monkeypatch.setattr(topk_dcca.TopKDCCA, "fit", spy)
    cfg = topk_dcca.TopKDCCAConfig(n_filters=2, pretrain_epochs=2, joint_epochs=2, batch_size=32, lr=0.1)
    models = add_deep_monitors(result, data, cfg, window=16, seed=0, device="cpu", checkpoint=False)
    assert seen == [(300 - 15, 5, 16)] * 2  # d00's windows only, for the AE and for DCCA
    assert models["ae"].config.alpha == 0.0 and models["dcca"].config.alpha == cfg.alpha
    for key in ("ae_rec", "ae_rec_mean", "dcca_rec", "dcca_rec_mean", "dcca_latent", "dcca_latent_mean"):
        stat = result.scores[key][1]
        assert len(stat) == 220 and np.isnan(stat[:15]).all() and np.isfinite(stat[15:]).all()
        rates = result.at_far(key)["fdr"]
        assert rates[1] > 0.8 and rates[2] < 0.3, key  # the 25-σ shift is found, the null fault is not
    assert len(result.table()) == 10 and "tep_dcca_latent_fdr_at_far5" in result.metrics()


def test_per_fault_rates_pair_monitors_over_faults_and_average_seeds():
    from dcca_core.experiments.tep_monitor import per_fault_fdr
    from dcca_core.stats import paired_difference

    def fdr_difference(results, a, b):
        return paired_difference(per_fault_fdr(results, a), per_fault_fdr(results, b))

    setup = MonitorSetup(faults=[1, 2], pca_components=3)
    results = [run_tep_monitors(_plant(seed=s), setup) for s in (0, 1)]
    rates = per_fault_fdr(results, "dpca_mean")
    expected = np.mean([[r.at_far("dpca_mean")["fdr"][f] for f in (1, 2)] for r in results], axis=0)
    np.testing.assert_allclose(rates, expected)
    d = fdr_difference(results, "dpca_mean", "pca")
    assert d.estimate == pytest.approx(float(np.mean(rates - per_fault_fdr(results, "pca"))))
    assert d.low <= d.estimate <= d.high and d.n == 2
    zero = fdr_difference(results, "pca", "pca")
    assert (zero.low, zero.high) == (0.0, 0.0)
    with pytest.raises(ValueError, match="different faults"):
        per_fault_fdr([results[0], run_tep_monitors(_plant(), MonitorSetup(faults=[1], pca_components=3))], "pca")


def test_the_best_of_several_monitors_is_chosen_again_in_every_resample():
    from dcca_core.experiments.tep_monitor import best_fdr_difference, per_fault_fdr
    from dcca_core.stats import paired_difference

    setup = MonitorSetup(faults=[1, 2], pca_components=3)
    results = [run_tep_monitors(_plant(seed=s), setup) for s in (0, 1)]
    best, ci = best_fdr_difference(results, ["pca", "dpca_mean"], "pca_mean", n_resamples=500)
    plain = paired_difference(per_fault_fdr(results, best), per_fault_fdr(results, "pca_mean"))
    assert ci.estimate == pytest.approx(plain.estimate)
    # re-choosing the best can only raise each resample's difference: the interval sits at or above
    assert ci.low >= plain.low - 1e-12 and ci.high >= plain.high - 1e-12
    with pytest.raises(ValueError, match="candidate"):
        best_fdr_difference(results, [], "pca")
