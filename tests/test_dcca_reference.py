"""Chapter 4 set-up A: the reference's TEP protocol around Top-K DCCA, on a small synthetic plant."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dcca_core.experiments import dcca_reference as ref
from dcca_core.training.topk_dcca import TopKDCCAConfig


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
    assert variants.shape == (2, 6)


def test_an_unknown_scaling_is_refused():
    with pytest.raises(ValueError, match="scaling"):
        ref.ReferenceSetup(scaling="zscore")
