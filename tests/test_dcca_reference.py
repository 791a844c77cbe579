"""Chapter 4 set-up A: the reference's TEP protocol around Top-K DCCA, on a small synthetic plant."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from test_topk_dcca import _windows  # two kinds of windows: a sine or a step

from dcca_core.experiments import dcca_reference as ref
from dcca_core.training.topk_dcca import TopKDCCA, TopKDCCAConfig


def _plant(seed=0, rows=60, variables=4):
    """Three training and three test runs (0 normal, 1 and 2 faulty: a shift in one variable from
    row 20 of each test run, as TEP's faults start at sample 160)."""
    rng = np.random.default_rng(seed)

    def split(n_rows, start):
        X, run, active = [], [], []
        for r in range(3):
            x = rng.normal(0, 1, (n_rows, variables))
            on = np.zeros(n_rows, dtype=np.uint8)
            if r:
                x[start:, r] += 4.0
                on[start:] = 1
            X.append(x)
            run.append(np.full(n_rows, r, dtype=np.int8))
            active.append(on)
        return np.concatenate(X), np.concatenate(run), np.concatenate(active)

    train_X, train_run, _ = split(rows, 0)
    test_X, test_run, active = split(rows, 20)
    return SimpleNamespace(
        train_X=train_X, train_run=train_run, test_X=test_X, test_run=test_run, test_fault_active=active
    )


def test_windows_stay_inside_their_runs_and_the_scaling_choice_is_honoured():
    data = _plant()
    lo, span = ref._minmax(data.train_X)
    w, ids = ref._windows(data.train_X, data.train_run, lo, span, 10)
    assert w.shape == (3 * (60 - 10 + 1), 4, 10) and np.bincount(ids).tolist() == [51, 51, 51]
    assert w.min() == pytest.approx(0.0) and w.max() == pytest.approx(1.0)
    shifted = data.train_X + 100.0  # the reference scales each split by its own extremes
    own_lo, own_span = ref._minmax(shifted)
    np.testing.assert_allclose(ref._windows(shifted, data.train_run, own_lo, own_span, 10)[0], w, atol=1e-5)
    assert ref._windows(shifted, data.train_run, lo, span, 10)[0].min() > 5  # our choice: training extremes


def test_the_reference_protocol_reports_each_label_set_beside_its_baselines():
    data = _plant()
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=2, joint_epochs=2, update_interval=1, batch_size=32, lr=0.1)
    result = ref.run_tep_reference(
        data, ref.ReferenceSetup(window=16, model=cfg), seed=0, device="cpu", checkpoint=False
    )
    assert result.n_train_windows == result.n_test_windows == 3 * 45
    m = result.metrics()
    assert m["tep_topk_reference_majority_acc"] == pytest.approx(2 / 3)
    # fault started: windows ending at rows ≥ 20 of runs 1 and 2 → 2 × 40 of 135 windows
    assert m["tep_topk_fault_active_majority_acc"] == pytest.approx(80 / 135)
    # a 4-σ shift is easy for k = 2 on the raw windows: one faulty run lands in the smaller cluster
    assert m["tep_raw_kmeans_fault_active_acc"] > m["tep_topk_fault_active_majority_acc"]
    assert max(result.raw_minority_runs.values()) > 0.5 and set(result.raw_minority_runs) == {0, 1, 2}
    table = ref.reference_table(result)
    assert list(table.columns) == list(ref.LABEL_SETS.values()) and table.notna().all().all()
    fig = ref.plot_kernel_accuracy(result)
    assert len(fig.axes) == 2
    variants = ref.ablation_table({"paper": result, "again": result})
    assert variants.shape == (2, 8) and "p (random K)" in variants.columns


def test_an_unknown_scaling_is_refused():
    with pytest.raises(ValueError, match="scaling"):
        ref.ReferenceSetup(scaling="zscore")


def test_the_reference_evaluation_marks_the_oracle_and_the_majority_rate():
    X, y = _windows(n=64)
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=3, joint_epochs=2, batch_size=16, lr=0.05)
    est = TopKDCCA(cfg, seed=0, device="cpu").fit(X)
    reports = ref.kernel_evaluation(est, X, {"kinds": y, "first_half": (np.arange(len(y)) < 32).astype(int)})
    report = reports["kinds"]
    assert len(report["kernels"]) == 8 and sum(r["topk"] for r in report["kernels"]) == 4
    accs = [r["acc"] for r in report["kernels"]]
    assert report["acc_oracle_kernel"] == max(accs) >= report["acc_topk_mean"]
    assert report["majority_rate"] == 0.5 and -1 <= report["spearman_distance_acc"] <= 1
    assert 0 < report["random_k_p"] <= 1
    # the first ranking (after the P + 1 pretraining epochs) is the history's first update
    from scipy.stats import spearmanr

    first = est.history_.updates[0]["distances"]
    assert est.history_.updates[0]["epoch"] == cfg.pretrain_epochs  # which counts all P + 1 of them
    assert report["spearman_first_distance_acc"] == pytest.approx(spearmanr(first, accs).statistic)
    assert all(0.5 <= r["acc_refit"] <= 1.0 for r in report["kernels"])
    # the two kinds of windows are easy: the best kernel separates them; the arbitrary halves are not
    assert report["acc_oracle_kernel"] > 0.9
    assert reports["first_half"]["acc_oracle_kernel"] < 0.8
    with pytest.raises(ValueError, match="labels 'short' hold 3 values for 64 windows"):
        ref.kernel_evaluation(est, X, {"short": [0, 1, 0]})


def test_random_subset_p_counts_random_sets_at_least_as_good():
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4])
    best = np.array([True, True, False, False, False, False])  # the two best of six: 1 of 15 pairs ties it
    p = ref.random_subset_p(scores, best, n_draws=20_000, seed=0)
    assert p == pytest.approx(1 / 15, abs=0.01)
    worst = ~np.isin(np.arange(6), [4, 5]) & ~best  # the two worst: every pair is at least as good
    assert ref.random_subset_p(scores, worst, n_draws=2000) == 1.0
    assert np.isnan(ref.random_subset_p(scores, np.ones(6, bool)))
    assert ref.random_subset_p(scores, best, seed=3) == ref.random_subset_p(scores, best, seed=3)
    with pytest.raises(ValueError, match="one length"):
        ref.random_subset_p(scores, best[:4])


def test_variant_setups_change_the_set_up_or_the_model_by_key():
    base = ref.ReferenceSetup(window=30, model=TopKDCCAConfig(n_filters=4))
    v = ref.variant_setup(base, {"window": 60, "variables": "no_analysers", "alpha": 0.5, "masking": "none"})
    assert (v.window, v.variables, v.model.alpha, v.model.masking, v.model.n_filters) == (
        60,
        "no_analysers",
        0.5,
        "none",
        4,
    )
    assert (base.window, base.variables, base.model.alpha) == (30, "all", TopKDCCAConfig().alpha)  # untouched
    with pytest.raises(ValueError, match="unknown ablation keys"):
        ref.variant_setup(base, {"windw": 60})
    with pytest.raises(ValueError, match="variables"):
        ref.ReferenceSetup(variables="some")


def test_the_variable_sets_select_the_33_continuous_measurements():
    cols = ref.tep_columns("no_analysers", 52)
    assert len(cols) == 33 and cols[:22] == list(range(22)) and cols[22:] == list(range(41, 52))
    assert ref.tep_columns("all", 7) == list(range(7))
    with pytest.raises(ValueError, match="52 TEP variables"):
        ref.tep_columns("no_analysers", 4)


def test_fewer_variables_train_on_fewer_channels():
    data = _plant(variables=4)
    data.train_X, data.test_X = np.tile(data.train_X, 13), np.tile(data.test_X, 13)  # 52 columns
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=1, joint_epochs=1, update_interval=1, batch_size=32)
    setup = ref.variant_setup(ref.ReferenceSetup(window=16, model=cfg), {"variables": "no_analysers"})
    result = ref.run_tep_reference(data, setup, seed=0, device="cpu", checkpoint=False)
    assert result.model.model_.encoder[0].in_channels == 33
