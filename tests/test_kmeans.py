"""dcca_core.cluster.KMeans: parity with sklearn, exactness of the pruning layers, errors, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from dcca_core.cluster import KMeans
from dcca_core.data import load_cifar10


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(600, n_features=5, centers=4, cluster_std=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def cifar_slice():
    """2,000 CIFAR-10 test images, grey, flattened, in [0, 1] (float32), as chapter 1 clusters them."""
    grey = load_cifar10("test", grayscale=True)
    return (grey.images[:2000].reshape(2000, -1) / 255.0).astype(np.float32)


def _matched_max_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest coordinate difference between two sets of centres after pairing each with its nearest."""
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    assert len(set(d.argmin(1))) == len(a)
    return float(np.abs(a - b[d.argmin(1)]).max())


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_blobs_match_sklearn(blobs, init):
    X, _ = blobs
    ours = KMeans(4, init=init, n_init=3, random_state=0).fit(X)
    ref = SkKMeans(4, init=init, n_init=3, random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-4)
    assert adjusted_rand_score(ours.labels_, ref.labels_) == 1.0
    assert _matched_max_diff(ours.cluster_centers_, ref.cluster_centers_) < 1e-4
    assert ours.cluster_centers_.dtype == np.float64 and ours.labels_.dtype == np.int64


def test_cifar_slice_inertia_within_half_percent(cifar_slice):
    ours = KMeans(10, n_init=1, random_state=0).fit(cifar_slice)
    ref = SkKMeans(10, n_init=1, random_state=0).fit(cifar_slice)
    assert abs(ours.inertia_ / ref.inertia_ - 1) < 5e-3
    assert 1 <= ours.n_iter_ <= 300


def test_pruning_layers_do_not_change_the_result(cifar_slice):
    """The bounds and the low-dimensional filter only skip work: plain and pruned runs agree."""
    X = cifar_slice[:800]
    runs = [KMeans(6, random_state=3, filter_dim=f).fit(X) for f in (None, 64, 16)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.labels_, runs[0].labels_)
        assert other.inertia_ == pytest.approx(runs[0].inertia_, rel=1e-12)
        assert other.n_iter_ == runs[0].n_iter_


def test_tiny_chunks_give_the_same_answer(blobs):
    X, _ = blobs
    a = KMeans(4, random_state=1, chunk_bytes=2000).fit(X)
    b = KMeans(4, random_state=1).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)


def test_same_random_state_same_result_and_different_seed_differs(cifar_slice):
    X = cifar_slice[:500]
    a = KMeans(5, n_init=2, random_state=7).fit(X)
    b = KMeans(5, n_init=2, random_state=7).fit(X)
    c = KMeans(5, n_init=1, random_state=8).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_
    assert c.inertia_ != a.inertia_
    gen_a = KMeans(5, random_state=np.random.default_rng(5)).fit(X)
    gen_b = KMeans(5, random_state=np.random.default_rng(5)).fit(X)
    np.testing.assert_array_equal(gen_a.labels_, gen_b.labels_)


def test_inertia_is_exact_float64(cifar_slice):
    X = cifar_slice[:500]
    km = KMeans(4, random_state=0).fit(X)
    X64 = X.astype(np.float64)
    expected = ((X64 - km.cluster_centers_[km.labels_]) ** 2).sum()
    assert km.inertia_ == pytest.approx(expected, rel=1e-12)
    assert km.score(X) == pytest.approx(-expected, rel=1e-12)


def test_predict_transform_score_match_sklearn_with_the_same_centres(blobs):
    X, _ = blobs
    ours = KMeans(4, n_init=2, random_state=0).fit(X)
    ref = SkKMeans(4, init=ours.cluster_centers_, n_init=1, max_iter=1).fit(X)
    ref.cluster_centers_ = ours.cluster_centers_
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-10, atol=1e-10)
    assert ours.score(X) == pytest.approx(ref.score(X), rel=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    np.testing.assert_array_equal(KMeans(4, n_init=2, random_state=0).fit_predict(X), ours.labels_)


def test_tensor_input_and_explicit_init(blobs):
    X, _ = blobs
    ref = KMeans(4, random_state=0).fit(X)
    ours = KMeans(4, random_state=0).fit(torch.from_numpy(X))
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    fixed = KMeans(4, init=ref.cluster_centers_).fit(X)
    np.testing.assert_array_equal(fixed.labels_, ref.labels_)
    assert fixed.n_iter_ <= 2


def test_empty_cluster_is_reseeded_like_sklearn(blobs):
    """A centre far from all data owns no point after the first E-step: it takes the farthest point."""
    X, _ = blobs
    start = np.vstack([X[[0, 200, 400]], np.full((1, X.shape[1]), 1e3)])
    ours = KMeans(4, init=start).fit(X)
    ref = SkKMeans(4, init=start, n_init=1).fit(X)
    assert np.isfinite(ours.cluster_centers_).all()
    assert len(np.unique(ours.labels_)) == 4
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    assert adjusted_rand_score(ours.labels_, ref.labels_) == 1.0


def test_duplicate_points_warn_but_stay_finite():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 20, axis=0)
    with pytest.warns(UserWarning, match="distinct clusters"):
        km = KMeans(5, random_state=0).fit(X)
    assert np.isfinite(km.cluster_centers_).all()
    assert km.inertia_ == pytest.approx(0.0, abs=1e-12)


def test_single_cluster_is_the_mean(blobs):
    X, _ = blobs
    km = KMeans(1).fit(X)
    np.testing.assert_allclose(km.cluster_centers_[0], X.mean(0), rtol=0, atol=1e-6)  # float32 work
    assert km.inertia_ == pytest.approx(((X - X.mean(0)) ** 2).sum(), rel=1e-12)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros(10), "2D array"),
        (np.zeros((2, 3, 4)), "dim 3"),
        (np.zeros((0, 3)), "0 sample"),
        (np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]), "NaN"),
        (np.array([[0.0, 1.0], [np.inf, 2.0], [1.0, 1.0]]), "infinity"),
        (np.array([["a", "b"], ["c", "d"]]), "convert"),
        (torch.zeros(10), "2-D"),
        (torch.tensor([[0.0, 1.0], [float("nan"), 2.0], [1.0, 1.0]]), "NaN or infinity"),
    ],
)
def test_bad_X(X, message):
    with pytest.raises(ValueError, match=message):
        KMeans(2).fit(X)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"n_clusters": 11}, "n_samples=10 should be >= n_clusters=11"),
        ({"n_clusters": 2, "init": "kmeans"}, "init"),
        ({"n_clusters": 2, "init": np.zeros((3, 2))}, "init has shape"),
        ({"n_clusters": 2, "n_init": 0}, "n_init"),
        ({"n_clusters": 2, "max_iter": 0}, "max_iter"),
        ({"n_clusters": 2, "tol": -1.0}, "tol"),
        ({"n_clusters": 2, "random_state": "seed"}, "random_state"),
        ({"n_clusters": 2, "device": "tpu"}, "device"),
    ],
)
def test_bad_parameters(kwargs, message):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=message):
        KMeans(**kwargs).fit(X)


def test_predict_checks_fit_and_feature_count(blobs):
    X, _ = blobs
    with pytest.raises(NotFittedError, match="not fitted"):
        KMeans(2).predict(X)
    km = KMeans(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        km.predict(X[:, :3])
    with pytest.raises(ValueError, match="features"):
        km.transform(X[:, :3])


def test_runs_advanced_in_smaller_groups_give_the_same_result(blobs, monkeypatch):
    """With little memory for Elkan's bounds the n_init runs go one group at a time, same answer."""
    import dcca_core.cluster.kmeans as kmeans_module

    X, _ = blobs
    together = KMeans(4, n_init=4, random_state=2).fit(X)
    monkeypatch.setattr(kmeans_module, "BOUNDS_BYTES", 1)
    one_by_one = KMeans(4, n_init=4, random_state=2).fit(X)
    np.testing.assert_array_equal(one_by_one.labels_, together.labels_)
    assert one_by_one.inertia_ == pytest.approx(together.inertia_, rel=1e-12)
