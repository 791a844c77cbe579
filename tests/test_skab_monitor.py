"""Chapter 4, set-up B on SKAB: one-class monitors fitted on each run's first rows only."""

import numpy as np
import pytest

from dcca_core.data import load_skab
from dcca_core.experiments import skab_monitor as sm
from dcca_core.training.topk_dcca import TopKDCCAConfig

TINY = TopKDCCAConfig(n_filters=2, pretrain_epochs=2, joint_epochs=2, update_interval=1, batch_size=64, kmeans_n_init=2)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def skab():
    return load_skab()


@pytest.fixture(scope="module")
def result(skab):
    setup = sm.SkabMonitorSetup(window=16, experiments=["valve1/1", "other/9"])
    return sm.run_skab_monitors(skab, setup, TINY, seed=0, device="cpu", checkpoint=False, progress=False)


def test_every_scored_point_gets_every_monitor(skab, result):
    assert result.keys == ["valve1/1", "other/9"]
    for key, y, i in zip(result.keys, result.y_test, range(2), strict=True):
        frame = skab.experiments[key]
        np.testing.assert_array_equal(y, frame["anomaly"].to_numpy()[400:])
        for name in result.labels:
            v = result.scores[name][i]
            assert v.shape == y.shape and np.isfinite(v).all() and (v >= 0).all(), name


def test_smoothed_monitors_are_the_trailing_mean_of_the_scaled_statistic(result):
    n = result.setup.smoothing
    assert set(result.scores) == set(sm.monitor_labels(n)) and len(result.scores) == 2 * len(sm.SKAB_MONITORS)
    for name in sm.SKAB_MONITORS:
        for raw, mean in zip(result.scores[name], result.scores[f"{name}_mean"], strict=True):
            expected = np.lib.stride_tricks.sliding_window_view(raw, n).mean(axis=1)  # means of scored rows only
            np.testing.assert_allclose(mean[n - 1 :], expected, rtol=1e-5, err_msg=name)  # float32 statistics
            assert not np.allclose(mean, raw), name  # it is a different alarm, not a copy


def test_limits_come_from_held_out_normal_rows_and_the_scored_part_is_never_seen(skab):
    frame = skab.experiments["valve1/1"]
    setup = sm.SkabMonitorSetup(window=16)
    a, seconds = sm.monitor_run(frame, skab.channels, setup, TINY, seed=0, device="cpu")
    assert seconds > 0
    wrecked = frame.copy()
    wrecked.loc[wrecked.index[-40:], skab.channels] += 1e3  # the end of the scored part
    b, _ = sm.monitor_run(wrecked, skab.channels, setup, TINY, seed=0, device="cpu")
    assert set(a) == set(sm.monitor_labels(setup.smoothing))
    for name in a:
        np.testing.assert_allclose(a[name][:-40], b[name][:-40], rtol=1e-5, err_msg=name)  # causal, nothing refitted
        assert (b[name][-25:] > 1.0).all(), name  # the wrecked windows are alarms, smoothed or not


def test_tables_and_metrics(result):
    assert result.fit_seconds > 0  # two networks per run, their training time kept
    table = result.table()
    assert list(table.index) == list(result.labels.values())
    assert table.index[3] == f"{sm.SKAB_MONITORS['ae_rec']}, mean of {result.setup.smoothing}"
    assert table["F1"].between(0, 1).all() and table["FAR %"].between(0, 100).all()
    assert table["AUC"].between(0, 1).all()
    m = result.metrics()
    names = [*sm.SKAB_MONITORS, *(f"{n}_mean" for n in sm.SKAB_MONITORS)]
    assert {f"skab_mon_{n}_{k}" for n in names for k in ("f1", "far", "mar", "auc")} == set(m)


def test_bad_setups_are_named():
    with pytest.raises(ValueError, match="fit_rows"):
        sm.SkabMonitorSetup(window=16, fit_rows=400)
    with pytest.raises(ValueError, match="quantile"):
        sm.SkabMonitorSetup(quantile=0.2)
    for bad in (1, 101):  # a mean of one is the raw alarm; more than the held-out rows reaches into fitting
        with pytest.raises(ValueError, match="smoothing must lie in 2..100"):
            sm.SkabMonitorSetup(window=16, smoothing=bad)
