"""dcca_core.metrics.silhouette_*: equal to sklearn (float64) to 1e-6, including singletons and duplicates."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples as sk_samples
from sklearn.metrics import silhouette_score as sk_score

from dcca_core.data import load_cifar10
from dcca_core.metrics import silhouette_samples, silhouette_score


@pytest.fixture(scope="module")
def cifar():
    """1,000 CIFAR-10 test images (grey, [0, 1]) with their true classes as the partition."""
    grey = load_cifar10("test", grayscale=True)
    return (grey.images[:1000].reshape(1000, -1) / 255.0).astype(np.float32), grey.labels[:1000]


def test_hand_worked_example():
    # clusters {0, 1} and {4}: a(0) = 1, b(0) = mean(4) = 4 → s = 0.75; s(1) = (3 - 1) / 3; singleton → 0
    X = np.array([[0.0], [1.0], [4.0]])
    s = silhouette_samples(X, [0, 0, 1])
    np.testing.assert_allclose(s, [0.75, 2 / 3, 0.0], rtol=0, atol=1e-15)


def test_low_dimensional_data_match_sklearn_with_a_singleton():
    X, y = make_blobs(300, n_features=4, centers=3, random_state=0)
    y = y.copy()
    y[5] = 9  # a singleton cluster: s = 0 by convention
    ours = silhouette_samples(X, y)
    np.testing.assert_allclose(ours, sk_samples(X, y), rtol=0, atol=1e-9)
    assert ours[5] == 0.0
    assert silhouette_score(X, y) == pytest.approx(sk_score(X, y), abs=1e-9)


def test_high_dimensional_float32_path_matches_sklearn(cifar):
    X, y = cifar
    assert silhouette_score(X, y) == pytest.approx(sk_score(X.astype(np.float64), y), abs=1e-6)
    np.testing.assert_allclose(
        silhouette_samples(X[:400], y[:400]), sk_samples(X[:400].astype(np.float64), y[:400]), rtol=0, atol=1e-6
    )


def test_duplicate_points_in_different_clusters(cifar):
    X, y = cifar
    Xd = np.vstack([X[:300], X[:40]])  # exact duplicates, some labelled differently
    yd = np.r_[y[:300], (y[:40] + 1) % 10]
    assert silhouette_score(Xd, yd) == pytest.approx(sk_score(Xd.astype(np.float64), yd), abs=1e-6)


def test_small_blocks_give_the_same_values(cifar):
    X, y = cifar
    np.testing.assert_allclose(
        silhouette_samples(X[:300], y[:300], block=64), silhouette_samples(X[:300], y[:300]), rtol=0, atol=1e-7
    )


def test_sample_size_draws_like_sklearn(cifar):
    X, y = cifar
    ours = silhouette_score(X, y, sample_size=300, random_state=4)
    ref = sk_score(X.astype(np.float64), y, sample_size=300, random_state=4)
    assert ours == pytest.approx(ref, abs=1e-6)
    assert ours != pytest.approx(silhouette_score(X, y, sample_size=300, random_state=5), abs=1e-9)


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.zeros(6, int), "between 2 and"),
        (np.arange(6), "between 2 and"),
        (np.array([0, 1, 0, 1, 0]), "entries but X has 6"),
    ],
)
def test_bad_labels(labels, message):
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match=message):
        silhouette_score(X, labels)


def test_bad_X_and_sample_size():
    X = np.random.default_rng(0).normal(size=(6, 3))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        silhouette_score(X, [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="2-D"):
        silhouette_samples(np.zeros(6), [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="sample_size"):
        silhouette_score(np.ones((6, 2)), [0, 0, 0, 1, 1, 1], sample_size=10)
