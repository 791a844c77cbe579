"""dcca_core.metrics.dunn_index: exact classic Dunn (against brute force) and the centroid variant."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from dcca_core.data import load_mnist
from dcca_core.metrics import classic_extremes, dunn_index


def brute_classic(X, y):
    D = cdist(X, X)
    same = y[:, None] == y[None, :]
    return D[~same].min() / D[same].max()


def brute_centroid(X, y):
    ks = np.unique(y)
    C = np.array([X[y == k].mean(0) for k in ks])
    width = max(np.linalg.norm(X[y == k] - C[i], axis=1).max() for i, k in enumerate(ks))
    cc = cdist(C, C)
    np.fill_diagonal(cc, np.inf)
    return cc.min() / width


@pytest.fixture(scope="module")
def mnist():
    """600 MNIST digits as float64 pixels in [0, 1], with their true labels as the partition."""
    x, y = load_mnist("test")
    return x[:600].reshape(600, -1).astype(np.float64) / 255.0, y[:600]


def test_hand_worked_example():
    # clusters {0, 1} and {5, 7} on a line: separation 5 - 1 = 4, widest cluster 7 - 5 = 2 → 2.0;
    # centroids 0.5 and 6: 5.5 apart, farthest point from its centroid 1.0 → 5.5
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [7.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    assert dunn_index(X, y) == 2.0
    assert dunn_index(X, y, kind="centroid") == 5.5


def test_classic_equals_brute_force_on_real_digits(mnist):
    X, y = mnist
    assert dunn_index(X, y) == pytest.approx(brute_classic(X, y), rel=1e-12)
    assert dunn_index(X.astype(np.float32), y) == pytest.approx(brute_classic(X, y), rel=1e-6)


def test_centroid_equals_brute_force_and_differs_from_classic(mnist):
    X, y = mnist
    centroid = dunn_index(X, y, kind="centroid")
    assert centroid == pytest.approx(brute_centroid(X, y), rel=1e-12)
    assert abs(centroid - dunn_index(X, y)) > 0.01  # two different quantities


def test_blocks_do_not_change_the_exact_extremes(mnist):
    X, y = mnist
    assert classic_extremes(X, y, block=37) == classic_extremes(X, y)


def test_pruning_bounds_do_not_change_the_exact_extremes(mnist):
    X, y = mnist
    assert classic_extremes(X, y, block=48, prune=True) == classic_extremes(X, y, prune=False)


def test_duplicates_across_clusters_give_zero():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [3.0, 0.0]])
    assert dunn_index(X, [0, 0, 1, 1]) == 0.0


def test_all_singletons_have_no_width():
    assert dunn_index(np.array([[0.0], [1.0], [3.0]]), [0, 1, 2]) == float("inf")


@pytest.mark.parametrize(
    "labels, kind, message",
    [
        ([0, 0, 0, 0], "classic", "at least 2 clusters"),
        ([0, 1, 0], "classic", "entries but X has 4"),
        ([0, 1, 0, 1], "nearest", "kind"),
    ],
)
def test_bad_input(labels, kind, message):
    with pytest.raises(ValueError, match=message):
        dunn_index(np.arange(8.0).reshape(4, 2), labels, kind=kind)
