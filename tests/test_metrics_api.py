"""dcca_core.metrics as sklearn drop-ins: silhouette metrics and labels, ROC options, keyword-only arguments,
the Dunn index at extreme magnitudes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.datasets import make_blobs
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import pairwise_distances, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve
from sklearn.metrics import silhouette_samples as sk_samples
from sklearn.metrics import silhouette_score as sk_score

from dcca_core.metrics import cluster_accuracy, dunn_index, roc_auc, roc_curve, silhouette_samples, silhouette_score


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(240, n_features=6, centers=4, cluster_std=1.5, random_state=7)
    return X, y


# ----------------------------------------------------------------------------- silhouette
@pytest.mark.parametrize("metric", ["manhattan", "cosine", "chebyshev", "sqeuclidean"])
def test_silhouette_other_metrics_are_sklearns(blobs, metric):
    X, y = blobs
    assert silhouette_score(X, y, metric=metric) == pytest.approx(sk_score(X, y, metric=metric), abs=1e-14)
    np.testing.assert_allclose(silhouette_samples(X, y, metric=metric), sk_samples(X, y, metric=metric), atol=1e-14)


def test_silhouette_metric_kwds_and_callable(blobs):
    X, y = blobs
    ours = silhouette_score(X, y, metric="minkowski", p=3)
    assert ours == pytest.approx(sk_score(X, y, metric="minkowski", p=3), abs=1e-14)
    l1 = silhouette_score(X, y, metric=lambda a, b: np.abs(a - b).sum())
    assert l1 == pytest.approx(sk_score(X, y, metric="manhattan"), abs=1e-12)


def test_silhouette_precomputed_equals_euclidean(blobs):
    X, y = blobs
    D = pairwise_distances(X)
    assert silhouette_score(D, y, metric="precomputed") == pytest.approx(silhouette_score(X, y), abs=1e-12)
    sub = silhouette_score(D, y, metric="precomputed", sample_size=100, random_state=1)
    assert sub == pytest.approx(sk_score(X, y, sample_size=100, random_state=1), abs=1e-12)
    D[0, 0] = 1.0
    with pytest.raises(ValueError, match="diagonal"):
        silhouette_score(D, y, metric="precomputed")


def test_silhouette_string_labels(blobs):
    X, y = blobs
    names = np.array(["north", "south", "east", "west"])[y]
    assert silhouette_score(X, names) == pytest.approx(sk_score(X, y), abs=1e-12)
    np.testing.assert_allclose(silhouette_samples(X, names.tolist()), sk_samples(X, y), atol=1e-12)


@pytest.mark.parametrize("factor", [1e18, 1e-25])
def test_silhouette_at_extreme_magnitudes(blobs, factor):
    X, y = blobs
    assert silhouette_score(X * factor, y) == pytest.approx(silhouette_score(X, y), abs=1e-12)
    wide = np.hstack([X] * 12)  # 72 features: the float32 path
    assert silhouette_score(wide * factor, y) == pytest.approx(sk_score(wide, y), abs=1e-6)


def test_sample_size_is_keyword_only(blobs):
    X, y = blobs
    with pytest.raises(TypeError):
        silhouette_score(X, y, 100)  # sklearn's signature: everything after labels is keyword-only


# ----------------------------------------------------------------------------- ROC
def _scores():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    s = np.round(rng.normal(size=400) + y, 1)  # ties
    return y, s


def test_roc_sample_weight_matches_sklearn():
    y, s = _scores()
    w = np.random.default_rng(4).uniform(0, 2, y.size)
    assert roc_auc(y, s, sample_weight=w) == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-12)
    ours = roc_curve(y, s, sample_weight=w, drop_intermediate=True)
    ref = sk_roc_curve(y, s, sample_weight=w)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_roc_drop_intermediate_matches_sklearn_and_keeps_the_area():
    y, s = _scores()
    ours = roc_curve(y, s, drop_intermediate=True)
    ref = sk_roc_curve(y, s, drop_intermediate=True)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b)
    full = roc_curve(y, s)
    assert full[0].size > ours[0].size
    assert np.trapezoid(ours[1], ours[0]) == pytest.approx(np.trapezoid(full[1], full[0]), abs=1e-14)


def test_roc_pos_label_minus_one_one_and_strings():
    y, s = _scores()
    pm = np.where(y == 1, 1, -1)
    assert roc_auc(pm, s) == pytest.approx(roc_auc(y, s), abs=1e-15)
    names = np.where(y == 1, "fault", "normal")
    assert roc_auc(names, s, pos_label="fault") == pytest.approx(roc_auc(y, s), abs=1e-15)
    assert roc_auc(names, s, pos_label="normal") == pytest.approx(1 - roc_auc(y, s), abs=1e-12)
    assert roc_auc(names, s) == pytest.approx(roc_auc_score(names, s), abs=1e-15)  # sklearn: larger label
    fpr, tpr, thr = roc_curve(names, s, pos_label="fault")
    ref = sk_roc_curve(names, s, pos_label="fault", drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref[0])
    np.testing.assert_allclose(tpr, ref[1])
    with pytest.raises(ValueError, match="pos_label is not specified"):
        roc_curve(names, s)
    assert roc_auc(y, s, pos_label=0) == pytest.approx(1 - roc_auc(y, s), abs=1e-12)


def test_one_class_warns_and_gives_nan():
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(roc_auc([1, 1, 1], [0.1, 0.2, 0.3]))
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        fpr, tpr, _ = roc_curve([1, 1, 1], [0.1, 0.2, 0.3])
    assert np.isnan(fpr).all() and tpr[-1] == 1.0
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(roc_auc([0, 1, 1], [0.1, 0.2, 0.3], sample_weight=[1.0, 0.0, 0.0]))


def test_cluster_accuracy_extra_argument_is_keyword_only():
    with pytest.raises(TypeError):
        cluster_accuracy([0, 1], [1, 0], True)
    acc, mapping = cluster_accuracy([0, 1], [1, 0], return_mapping=True)
    assert acc == 1.0 and mapping == {1: 0, 0: 1}


# ----------------------------------------------------------------------------- Dunn
@pytest.mark.parametrize("factor", [1e18, 1e-25, 1e150, 1e-150])
@pytest.mark.parametrize("prune", [False, True])
def test_dunn_at_extreme_magnitudes(factor, prune):
    X, y = make_blobs(300, n_features=80, centers=3, random_state=0)
    D = cdist(X, X)
    same = y[:, None] == y[None, :]
    expected = D[~same].min() / D[same].max()
    from dcca_core.metrics import classic_extremes

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sep, width = classic_extremes(X * factor, y, prune=prune, block=64)
    assert np.sqrt(sep) / np.sqrt(width) == pytest.approx(expected, rel=1e-12)
    assert dunn_index(X * factor, y) == pytest.approx(expected, rel=1e-12)
    assert dunn_index(X * factor, y, kind="centroid") == pytest.approx(dunn_index(X, y, kind="centroid"), rel=1e-12)
