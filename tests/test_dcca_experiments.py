"""Chapter 4 pipelines on small slices of the real SKAB and TEP data: every method scores the right
points, limits come from the training part only, tables and figures have the expected shape."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from dcca_core.anomaly.detection_metrics import flag_everything, skab_scores
from dcca_core.data import load_skab, load_tep
from dcca_core.experiments.dcca_sensors import (
    METHOD_NAMES,
    METHODS,
    SCORE_NAMES,
    SKAB_METHODS,
    SMOOTHED,
    TEP_METHODS,
    SkabResult,
    SkabSetup,
    TepSetup,
    plot_activation_maps,
    plot_detection_rates,
    plot_kernel_distances,
    plot_losses,
    pointwise_detectors,
    run_skab_experiment,
    run_tep,
)
from dcca_core.training.dcca import DCCAConfig

TINY = DCCAConfig(
    n_filters=2,
    latent_dim=4,
    kernel_size=3,
    pretrain_epochs=2,
    joint_epochs=1,
    masked_epochs=1,
    batch_size=256,
    kmeans_n_init=2,
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def skab():
    return load_skab()


@pytest.fixture(scope="module")
def skab_run(skab):
    setup = SkabSetup(window=16, train_stride=2, dcca=TINY)
    return run_skab_experiment(
        "valve1/1",
        skab.experiments["valve1/1"],
        skab.channels,
        setup,
        seed=0,
        device="cpu",
        keep_model=True,
        checkpoint=False,
    )


def test_skab_run_scores_every_test_point_with_every_method(skab, skab_run):
    n_test = len(skab.experiments["valve1/1"]) - 400
    assert skab_run.y_test.shape == (n_test,)
    np.testing.assert_array_equal(skab_run.y_test, skab.experiments["valve1/1"]["anomaly"].to_numpy()[400:])
    for m in SKAB_METHODS:
        d, s = skab_run.decisions[m], skab_run.scores[m]
        assert d.shape == s.shape == (n_test,), m
        assert not np.isnan(d).any() and set(np.unique(d)) <= {0.0, 1.0}, m
    # a test window ends at every test point (window 16 < 400 training rows)
    assert skab_run.window_y_test.shape == (n_test,)
    for g, d in skab_run.kernel_decisions.items():
        assert d.shape == (n_test,), g
    # DCCA's own decision is the nearest-centre rule on the windows that end in the test part
    model = skab_run.model
    test_windows = skab_run.windows[-n_test:]
    np.testing.assert_array_equal(skab_run.decisions["dcca"], model.predict(test_windows))


def test_pointwise_detectors_use_the_training_rows_only(skab):
    frame = skab.experiments["valve1/1"]
    X = frame[skab.channels].to_numpy()
    setup = SkabSetup(dcca=TINY)
    ref, test = X[:400], X[400:]
    d1, _, limits = pointwise_detectors(ref, test, setup)
    changed = test.copy()
    changed[-50:] += 1e3  # wreck the end of the test part
    d2, _, _ = pointwise_detectors(ref, changed, setup)
    for m in d1:  # decisions on the untouched test rows do not move
        np.testing.assert_array_equal(d1[m][:-50], d2[m][:-50], err_msg=m)
        assert d2[m][-50:].all(), m
    _, scores, _ = pointwise_detectors(ref, test, setup)
    for m in ("iforest", "pca_t2", "pca_q", "pca_t2q"):  # each decision is its score over the limit returned
        np.testing.assert_array_equal(d1[m], (scores[m] > limits[m]).astype(int), err_msg=m)


def test_skab_smoothed_detectors_are_the_trailing_mean_of_score_over_limit(skab_run):
    n = SkabSetup(dcca=TINY).smoothing
    for m in SMOOTHED:
        raw, mean = skab_run.scores[m], skab_run.scores[f"{m}_mean"]
        ratio = np.lib.stride_tricks.sliding_window_view(raw, n).mean(axis=1) / mean[n - 1 :]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6, err_msg=m)  # a mean of score / one limit
        np.testing.assert_array_equal(skab_run.decisions[f"{m}_mean"], (mean > 1.0).astype(float), err_msg=m)
    with pytest.raises(ValueError, match="smoothing must be an integer ≥ 2"):
        SkabSetup(dcca=TINY, smoothing=1)


def test_skab_controls_are_the_replica_and_a_transductive_k2(skab, skab_run):
    from dcca_core.anomaly.skab_t2q import SkabT2Q
    from dcca_core.cluster import KMeans
    from dcca_core.preprocess import ChannelScaler

    frame = skab.experiments["valve1/1"]
    raw = frame[skab.channels]
    expected = SkabT2Q().fit(raw.iloc[:400]).predict(raw.iloc[400:])
    np.testing.assert_array_equal(skab_run.decisions["t2q_skab"], expected)
    fixed = SkabT2Q(corrected=True).fit(raw.iloc[:400])
    np.testing.assert_array_equal(skab_run.decisions["t2q_fixed"], fixed.predict(raw.iloc[400:]))
    assert fixed.q_limit_ != SkabT2Q().fit(raw.iloc[:400]).q_limit_  # the corrected Q limit is another number
    # k = 2 on every scaled point of the run (test rows included, no labels); the cluster nearer the
    # training rows' mean is normal
    values = raw.to_numpy(dtype=np.float64)
    scaled = ChannelScaler().fit(values[:400]).transform(values)
    km = KMeans(2, n_init=10, random_state=0, device="cpu").fit(scaled)
    normal = np.argmin(np.linalg.norm(np.asarray(km.cluster_centers_) - scaled[:400].mean(axis=0), axis=1))
    np.testing.assert_array_equal(
        skab_run.decisions["raw_kmeans"], (np.asarray(km.labels_)[400:] != normal).astype(float)
    )
    assert skab_run.decisions["raw_kmeans"][:50].mean() < 0.5  # the run starts normal


def test_skab_conv_ae_is_the_replica_under_its_three_rules(skab, skab_run):
    from dcca_core.anomaly.skab_conv_ae import SkabConvAE

    raw = skab.experiments["valve1/1"][skab.channels].to_numpy(dtype=np.float64)
    det = SkabConvAE(seed=0, device="cpu").fit(raw[:400])
    lead, _ = det.predict_leaderboard(raw[400:])
    np.testing.assert_array_equal(skab_run.decisions["conv_ae_skab"], lead)
    causal, _ = det.predict_causal(raw[:400], raw[400:], 59)
    np.testing.assert_array_equal(skab_run.decisions["conv_ae_causal_59"], causal)
    one, _ = det.predict_causal(raw[:400], raw[400:], 1)
    np.testing.assert_array_equal(skab_run.decisions["conv_ae_causal"], one)
    assert lead[:59].sum() == 0  # the leaderboard's loop never decides the first 59 test points


def test_skab_tables_and_metrics(skab_run):
    result = SkabResult(SkabSetup(dcca=TINY), [skab_run])
    # DCCA-lin's training (from its record) plus the Conv-AE's
    assert result.fit_seconds == skab_run.fit_seconds > skab_run.model.fit_seconds_ > 0
    table = result.table()
    assert list(table.index) == [METHOD_NAMES[m] for m in (*SKAB_METHODS, "flag_all")]
    assert table["F1"].between(0, 1).all() and table["FAR %"].between(0, 100).all()
    assert table.loc["flag everything", "F1"] == pytest.approx(flag_everything([skab_run.y_test])["f1"])
    kt = result.kernel_table()
    assert list(kt.index) == ["clustering kernels", "all kernels", "reconstruction kernels"]
    assert kt["accuracy"].between(0.5, 1).all()  # Hungarian accuracy of 2 clusters is ≥ 0.5
    metrics = result.metrics()
    assert {
        "skab_dcca_f1",
        "skab_dcca_far",
        "skab_dcca_mar",
        "skab_pca_t2q_f1",
        "skab_raw_kmeans_f1",
        "skab_t2q_skab_far",
        "skab_t2q_fixed_mar",
        "skab_conv_ae_skab_f1",
        "skab_conv_ae_causal_far",
        "skab_conv_ae_causal_59_mar",
        "skab_iforest_f1",
        "skab_flag_all_f1",
        "skab_kernels_clustering_acc",
        "skab_kernels_reconstruction_f1",
    } <= set(metrics)
    assert metrics["skab_test_anomalous_pct"] == pytest.approx(100 * skab_run.y_test.mean())
    # flagging every point has recall 1 and precision p, the anomalous share: F1 = 2p / (1 + p)
    f1 = metrics["skab_flag_all_f1"]
    assert metrics["skab_test_anomalous_pct"] == pytest.approx(100 * f1 / (2 - f1))
    assert result.showcase is skab_run
    assert set(result.roc_inputs()) == {SCORE_NAMES[m] for m in ("dcca", "ae_kmeans", "ae_recon", "iforest", "pca_t2q")}


def test_figures(skab_run):
    model = skab_run.model
    fig = plot_kernel_distances(model)
    assert len(fig.axes) == 1 and len(fig.axes[0].patches) == model.model_.n_kernels
    fig2 = plot_activation_maps(model, skab_run.windows, skab_run.window_y, n_kernels=2, n_windows=5)
    assert len(fig2.axes) == 4
    fig3 = plot_losses(model)
    assert len(fig3.axes) == 2
    plt.close("all")


@pytest.fixture(scope="module")
def tep_result():
    setup = TepSetup(window=10, train_stride=8, faults=[1, 6], dcca=TINY)
    return run_tep(load_tep(), setup, seed=0, device="cpu", checkpoint=False, progress=False)


def test_tep_scores_the_chosen_runs_on_the_same_points(tep_result):
    r = tep_result
    assert sorted(set(r.test_run.tolist())) == [0, 1, 6]
    assert len(r.test_run) == 3 * 960
    for m in TEP_METHODS:
        d = r.decisions[m]
        # the first window-1 points of each run have no decision, for every method alike
        assert np.isnan(d).sum() == 3 * 9, m
        assert np.isnan(d[:9]).all() and not np.isnan(d[9:960]).any()
    table = r.table()
    assert table.loc[:, ["FDR mean"]].apply(lambda c: c.between(0, 1)).all().all()
    assert table.loc[:, ["FAR d00_te %", "FAR pre-fault %"]].apply(lambda c: c.between(0, 100)).all().all()
    # the fault-free test run never counts towards detection
    assert list(r.detection_rate_table().index) == [1, 6]
    # fault 6 (loss of A feed) is a gross fault: PCA's T² catches nearly all of it
    assert r.detection_rate_table().loc[6, METHOD_NAMES["pca_t2"]] > 0.9
    # ... and confirms it (3 consecutive alarms) within a few samples of its start; fault 1 takes longer
    delay = r.median_delay("pca_t2")
    assert 0 <= delay < 40 and table.loc[METHOD_NAMES["pca_t2"], "median delay"] == delay
    flags = r.decisions["pca_t2"].copy()
    r.decisions["pca_t2"] = np.zeros_like(flags)  # never an alarm: no delay to report
    assert np.isnan(r.median_delay("pca_t2"))
    r.decisions["pca_t2"] = flags
    metrics = r.metrics()
    assert {
        "tep_dcca_fdr",
        "tep_dcca_far",
        "tep_pca_t2_fdr",
        "tep_pca_q_far",
        "tep_ae_recon_fdr_at_far5",
        "tep_kernels_all_acc",
    } <= set(metrics)
    # the policy's variants start afresh in every run: the run's first decided mean is its first ratio
    for m in SMOOTHED:
        assert f"tep_{m}_mean_fdr_at_far5" in metrics
        for start in (9, 969, 1929):
            assert r.scores[f"{m}_mean"][start] / r.scores[m][start] == pytest.approx(
                r.scores[f"{m}_mean"][9] / r.scores[m][9]
            ), m  # a mean of one value: the value over the (same) limit
    fig = plot_detection_rates(r)
    assert len(fig.axes) == 1
    plt.close("all")


def test_bad_setups_are_named(skab):
    with pytest.raises(ValueError, match="threshold_quantile"):
        SkabSetup(threshold_quantile=1.2)
    with pytest.raises(ValueError, match="faults"):
        run_tep(load_tep(), TepSetup(faults=[0, 22], dcca=TINY), checkpoint=False)
    with pytest.raises(ValueError, match="rows"):
        run_skab_experiment("x", skab.experiments["valve1/1"].iloc[:300], skab.channels, SkabSetup(dcca=TINY))


def test_seed_summaries():
    import pandas as pd

    from dcca_core.experiments.dcca_sensors import mean_pm_std, over_seeds, seed_metrics

    a = pd.DataFrame({"F1": [0.8, 0.5]}, index=["dcca", "pca"])
    b = pd.DataFrame({"F1": [0.7, 0.5]}, index=["dcca", "pca"])
    mean, std = over_seeds([a, b])
    sd = 0.1 / np.sqrt(2)  # two seeds 0.1 apart, ddof=1: sqrt(2 · 0.05² / 1)
    assert mean.loc["dcca", "F1"] == pytest.approx(0.75) and std.loc["dcca", "F1"] == pytest.approx(sd)
    assert std.loc["pca", "F1"] == 0.0 and std.attrs == {"n": 2, "ddof": 1}
    shown = mean_pm_std(mean, std)
    assert shown.loc["dcca", "F1"] == "0.750 ± 0.071" and shown.columns.name == "mean ± sd over 2 seeds (ddof=1)"
    assert over_seeds([a, b], ddof=0)[1].loc["dcca", "F1"] == pytest.approx(0.05)
    assert mean_pm_std(mean, std * 0).loc["dcca", "F1"] == pytest.approx(0.75)  # no spread: plain numbers
    one_mean, one_std = over_seeds([a])
    assert np.isnan(one_std.to_numpy()).all() and mean_pm_std(one_mean, one_std).loc["dcca", "F1"] == 0.8
    m = seed_metrics([{"skab_dcca_f1": 0.8, "skab_n_runs": 34}, {"skab_dcca_f1": 0.7, "skab_n_runs": 34}])
    assert m == {"skab_dcca_f1": pytest.approx(0.75), "skab_dcca_f1_std": pytest.approx(sd), "skab_n_runs": 34}
    assert seed_metrics([{"skab_dcca_f1": 0.8}]) == {"skab_dcca_f1": 0.8}  # one seed: no sd to report
    spread = seed_metrics(
        [
            {"skab_dcca_nab_standard": 20.0, "tep_x_fdr_at_far5": 0.7},
            {"skab_dcca_nab_standard": 22.0, "tep_x_fdr_at_far5": 0.7},
        ]
    )
    assert spread["skab_dcca_nab_standard_std"] == pytest.approx(np.sqrt(2)) and spread["tep_x_fdr_at_far5_std"] == 0.0


def test_the_deterministic_methods_figures_are_the_same_on_every_seed_of_the_committed_run():
    import json
    from pathlib import Path

    from dcca_core.experiments.dcca_sensors import deterministic_metrics

    metrics = json.loads((Path(__file__).resolve().parents[1] / "results/full/04_dcca_sensors.json").read_text())[
        "metrics"
    ]
    named = deterministic_metrics(metrics)
    assert {"skab_t2q_skab_f1", "tep_dpca_mean_fdr_at_far5", "skab_pca_t2_auc"} <= set(named)
    assert not {"skab_dcca_f1", "skab_iforest_f1", "tep_dcca_fdr_at_far5"} & set(named)  # seeded methods
    assert all(v == [] for v in named.values())
    # five seeds each computed these: their spread is float rounding at most
    spreads = [metrics[f"{name}_std"] for name in named if f"{name}_std" in metrics]
    assert len(spreads) > 30 and max(spreads) < 1e-12


def test_kernel_table_by_hand():
    from dcca_core.experiments.dcca_sensors import KERNEL_GROUPS, TepResult

    result = TepResult.__new__(TepResult)
    result.window_y = np.array([0, 0, 1, 1, 1])
    # decisions agree with the labels on 1 window of 5: the two-cluster matching flips them (4/5),
    # while F1 scores them as named (tp 1, fp 2, fn 2 → 1 / (1 + 2))
    result.kernel_decisions = {g: np.array([1, 1, 0, 0, 1]) for g in KERNEL_GROUPS}
    table = result.kernel_table()
    assert table.loc["clustering kernels", "accuracy"] == pytest.approx(0.8)
    assert table.loc["clustering kernels", "F1"] == pytest.approx(1 / 3)


def test_contaminated_mix_keeps_every_normal_window_and_a_seeded_share_of_faults():
    from dcca_core.experiments.dcca_sensors import contaminated_mix

    runs = np.array([0] * 95 + [1] * 300 + [2] * 300)
    windows = np.arange(len(runs), dtype=float)[:, None, None]
    w, r = contaminated_mix(windows, runs, 0.05, seed=3)
    assert (r == 0).sum() == 95 and (r != 0).sum() == 5  # 5 / 100 of the mix
    assert np.all(np.diff(w[:, 0, 0]) > 0) and np.array_equal(runs[w[:, 0, 0].astype(int)], r)
    again, _ = contaminated_mix(windows, runs, 0.05, seed=3)
    other, _ = contaminated_mix(windows, runs, 0.05, seed=4)
    assert np.array_equal(w, again) and not np.array_equal(w, other)
    with pytest.raises(ValueError, match="only 600 exist"):
        contaminated_mix(windows, runs, 0.9)
    with pytest.raises(ValueError, match="contamination"):
        TepSetup(contamination=1.0)


def test_tep_with_a_realistic_mix_trains_dcca_on_mostly_normal_windows():
    setup = TepSetup(window=10, train_stride=8, faults=[1, 6], dcca=TINY, contamination=0.1)
    r = run_tep(load_tep(), setup, seed=0, device="cpu", checkpoint=False, progress=False)
    assert (r.train_window_run != 0).mean() == pytest.approx(0.1, abs=0.02)
    assert set(r.decisions) >= set(METHODS)


def _synthetic_skab(seed, n_runs=8):
    """SKAB-like results without training: per run, labels and three methods' decisions."""
    from dcca_core.experiments.dcca_sensors import SkabRun

    rng = np.random.default_rng(seed)
    runs = []
    for i in range(n_runs):
        y = (np.arange(200) >= rng.integers(60, 140)).astype(int)
        good = np.where(rng.random(200) < 0.1, 1 - y, y).astype(float)  # 10 % of points wrong
        noisy = np.where(rng.random(200) < 0.3, 1 - y, y).astype(float)  # 30 % wrong
        runs.append(SkabRun(f"r/{i}", y, {"good": good, "noisy": noisy}, {}, y, {}))
    return SkabResult(SkabSetup(dcca=TINY), runs)


def test_skab_f1_difference_pools_each_resample_like_skab_and_pairs_the_runs():
    from dcca_core.experiments.dcca_sensors import skab_f1_difference

    results = [_synthetic_skab(0), _synthetic_skab(1)]
    ci = skab_f1_difference(results, "good", "noisy", n_resamples=500)
    pooled = [
        skab_scores([r.y_test for r in res.runs], [r.decisions[m] for r in res.runs])["f1"]
        for res in results
        for m in ("good", "noisy")
    ]
    assert ci.estimate == pytest.approx(np.mean([pooled[0] - pooled[1], pooled[2] - pooled[3]]))
    assert ci.excludes(0.0) and ci.low > 0.1 and ci.n == 8
    same = skab_f1_difference(results, "good", "good", n_resamples=200)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    other = _synthetic_skab(2, n_runs=7)
    with pytest.raises(ValueError, match="different SKAB runs"):
        skab_f1_difference([results[0], other], "good", "noisy")


def test_skab_nab_table_scores_every_method_on_the_changepoint_task(skab, skab_run):
    from dcca_core.anomaly.nab import nab_scores

    frame = skab.experiments["valve1/1"]
    assert skab_run.cp_test.tolist() == frame["changepoint"].to_numpy()[400:].tolist()
    assert skab_run.times_test[0] == 0.0 and np.all(np.diff(skab_run.times_test) >= 1.0)  # seconds, 1 Hz or slower
    result = SkabResult(SkabSetup(dcca=TINY), [skab_run])
    table = result.nab_table()
    assert list(table.index) == [METHOD_NAMES[m] for m in SKAB_METHODS]
    expected = nab_scores([skab_run.cp_test], [skab_run.decisions["t2q_skab"]], [skab_run.times_test])
    assert table.loc[METHOD_NAMES["t2q_skab"], "NAB standard"] == pytest.approx(expected["standard"])
    assert result.metrics()["skab_dcca_nab_low_fn"] == table.loc[METHOD_NAMES["dcca"], "NAB low FN"]
    assert (table.to_numpy() <= 100).all()


def test_findings_are_written_from_the_record():
    RUN = {"smoothing": 7, "contamination": 0.05}  # the run's settings the text names
    from dcca_core.experiments.dcca_sensors import best_causal_skab, findings

    m = {
        "tep_topk_reference_topk_acc": 0.917, "tep_topk_reference_majority_acc": 0.955,
        "tep_topk_fault_active_topk_acc": 0.78, "tep_topk_fault_active_majority_acc": 0.82,
        "tep_topk_reference_oracle_acc": 0.93, "tep_raw_kmeans_reference_acc": 0.90,
        "tep_topk_fault_active_random_k_p": 0.001, "tep_topk_fault_active_oracle_acc": 0.80,
        "tep_best_dcca_minus_dpca_mean_fdr_at_far5": -0.05,
        "tep_best_dcca_minus_dpca_mean_fdr_at_far5_ci_low": -0.08,
        "tep_best_dcca_minus_dpca_mean_fdr_at_far5_ci_high": -0.02,
        "tep_dcca_fdr_at_far5": 0.73, "tep_dpca_mean_fdr_at_far5": 0.79, "tep_ae_rec_fdr_at_far5": 0.73,
        "tep_dcca_fdr": 0.07,
        "skab_dcca_f1": 0.78, "skab_dcca_far": 28.0, "skab_raw_kmeans_f1": 0.79,
        "skab_iforest_f1": 0.5, "skab_iforest_far": 13.3, "skab_pca_t2_f1": 0.7, "skab_pca_t2_far": 40.0,
        "skab_mon_ae_rec_f1": 0.6, "skab_mon_ae_rec_far": 10.0,
        "skab_kernels_clustering_acc": 0.76, "skab_kernels_all_acc": 0.78, "skab_kernels_reconstruction_acc": 0.79,
        "tep_kernels_clustering_acc": 0.750, "tep_kernels_all_acc": 0.749, "tep_kernels_reconstruction_acc": 0.748,
    }  # fmt: skip
    text = findings(m, n_seeds=5, **RUN)
    assert "majority class of 0.955" in text and "better kernels than a random set" in text
    assert "Not even the kernel chosen with the labels gets above the majority class" in text
    assert "DPCA with smoothing stays ahead" in text and "-0.080 to -0.020" in text
    assert "DPCA + a 7-sample mean 0.790" in text
    assert "over 5 seeds" in text and "short of the target" in text
    assert best_causal_skab(m) == ("mon_ae_rec", 0.6, 10.0)  # the quiet detector with the highest F1
    assert "one-class monitor conv AE" in text
    assert "SKAB: clustering kernels 0.760, all 0.780, reconstruction 0.790 (the claim does not hold)" in text
    assert "TEP: clustering kernels 0.750, all 0.749, reconstruction 0.748 (level)" in text
    above = {**m, "tep_topk_fault_active_oracle_acc": 0.85}  # one label set beaten: no blanket statement
    assert "Not even" not in findings(above, n_seeds=5, **RUN)
    m["tep_best_dcca_minus_dpca_mean_fdr_at_far5_ci_high"] = 0.01
    assert "cannot tell them apart" in findings(m, n_seeds=5, **RUN)
    assert findings({}, n_seeds=1, **RUN) == ""
    smoothed = {**m, "skab_mon_ae_rec_mean_f1": 0.65, "skab_mon_ae_rec_mean_far": 9.0}  # the shared policy's variant
    assert best_causal_skab(smoothed) == ("mon_ae_rec_mean", 0.65, 9.0)
    assert "one-class monitor conv AE, α = 0 (normal rows only), reconstruction, trailing mean" in findings(
        smoothed, 5, **RUN
    )


def test_the_published_figures_are_read_off_the_leaderboards_and_match_the_committed_run():
    import json
    from pathlib import Path

    from dcca_core.experiments.dcca_sensors import PUBLISHED, SKAB_LEADERBOARD, SKAB_NAB_LEADERBOARD

    assert PUBLISHED["skab_t2q_skab_far"]["value"] == SKAB_LEADERBOARD["T-squared+Q (PCA)"][1] == 26.62
    assert PUBLISHED["skab_conv_ae_skab_nab_low_fn"]["value"] == SKAB_NAB_LEADERBOARD["Conv-AE"][2]
    assert PUBLISHED["skab_dcca_f1"]["kind"] == "other method" and PUBLISHED["tep_dcca_fdr_at_far5"]["kind"] == "target"
    committed = json.loads((Path(__file__).resolve().parents[1] / "results/full/04_dcca_sensors.json").read_text())
    assert committed["published"] == PUBLISHED  # one home: the record carries the module's figures
