"""dcca_core.metrics: Hungarian accuracy, NMI/ARI and the rank-statistic ROC AUC."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from dcca_core.data import load_tep
from dcca_core.metrics import ari, cluster_accuracy, contingency, nmi, roc_auc, roc_curve


def test_accuracy_hand_worked_with_renamed_clusters():
    # clusters 1→class 0, 0→class 1, 2→class 2; one sample of class 2 sits in cluster 0 → 5/6
    acc, mapping = cluster_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 0, 2], return_mapping=True)
    assert acc == pytest.approx(5 / 6)
    assert mapping == {0: 1, 1: 0, 2: 2}


def test_accuracy_with_more_clusters_than_classes_and_fewer():
    # 3 clusters, 2 classes: the best two clusters are matched, the third counts as wrong → 4/6
    assert cluster_accuracy([0, 0, 0, 1, 1, 1], [0, 0, 2, 1, 1, 2]) == pytest.approx(4 / 6)
    # 1 cluster, 2 classes: only the larger class can be right
    assert cluster_accuracy([0, 0, 0, 1], [5, 5, 5, 5]) == pytest.approx(3 / 4)
    table, clusters, classes = contingency([0, 0, 1], ["b", "a", "a"])
    assert table.tolist() == [[1, 1], [1, 0]] and clusters.tolist() == ["a", "b"]


def test_accuracy_is_permutation_invariant_and_bounded():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    assert cluster_accuracy(y, (y * 7 + 3) % 10) == 1.0
    assert 0.1 <= cluster_accuracy(y, rng.integers(0, 10, 500)) < 0.3


def test_nmi_ari_are_sklearns():
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 4, 200), rng.integers(0, 5, 200)
    assert nmi(y, p) == pytest.approx(normalized_mutual_info_score(y, p))
    assert ari(y, p) == pytest.approx(adjusted_rand_score(y, p))


def test_auc_hand_worked_with_ties():
    # positives 0.35 and 0.8 against negatives 0.1, 0.35, 0.4: pairs won 1 + 0.5 + 0 + 1 + 1 + 1 = 4.5 of 6
    assert roc_auc([0, 1, 0, 1, 0], [0.1, 0.35, 0.35, 0.8, 0.4]) == pytest.approx(4.5 / 6)
    assert roc_auc([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0
    assert roc_auc([True, True, False], [1.0, 1.0, 1.0]) == 0.5


def test_auc_and_curve_match_sklearn_on_real_process_data():
    """TEP: variable 1 as a (weak) fault score for the test rows, ties included after rounding."""
    tep = load_tep()
    y = tep.test_fault_active.astype(int)[:4000]
    score = np.round(tep.test_X[:4000, 0], 2)
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    fpr, tpr, thr = roc_curve(y, score)
    ref_fpr, ref_tpr, ref_thr = sk_roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    np.testing.assert_allclose(thr[1:], ref_thr[1:])


@pytest.mark.parametrize(
    "y, s, message",
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "binary"),
        ([0, 1], [0.1, 0.2, 0.3], "entries but score has 3"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "NaN"),
    ],
)
def test_auc_bad_input(y, s, message):
    with pytest.raises(ValueError, match=message):
        roc_auc(y, s)


def test_label_length_mismatch():
    with pytest.raises(ValueError, match="entries but y_pred has 2"):
        cluster_accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="entries but y_pred has 2"):
        nmi([0, 1, 1], [0, 1])
