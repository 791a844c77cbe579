"""dcca_core.plots: every figure function returns a Figure with the expected panels, on small input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from dcca_core.data import load_mnist
from dcca_core.plots import (
    confusion_heatmap,
    embed_2d,
    image_montage,
    roc_curves,
    scatter_clusters,
    set_style,
)


@pytest.fixture(scope="module")
def digits():
    x, y = load_mnist("test")
    return x[:60], y[:60]


@pytest.fixture(autouse=True)
def _close():
    set_style()
    yield
    plt.close("all")


def test_embed_2d_tsne_shape_and_determinism(digits):
    x, _ = digits
    X = x.reshape(60, -1) / 255.0
    a = embed_2d(X, method="tsne", random_state=0)
    assert a.shape == (60, 2) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, embed_2d(X, method="tsne", random_state=0))
    with pytest.raises(ValueError, match="method"):
        embed_2d(X, method="pca")
    with pytest.raises(ValueError, match="at least 4"):
        embed_2d(X[:3])


def test_umap_leaves_torch_on_the_threads_it_had(digits):
    """numba's OpenMP layer raised torch to one thread per core under UMAP (seen: 1 → 2), which made
    the rest of chapter 2 oversubscribe the cores; both UMAP calls restore the count."""
    import torch

    from dcca_core.experiments.dec_mnist import umap_gmm

    x, _ = digits
    X = (x.reshape(60, -1) / 255.0).astype(np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a = embed_2d(X, method="umap", random_state=0)
        assert a.shape == (60, 2) and torch.get_num_threads() == 1
        labels, manifold = umap_gmm(X, 3, n_neighbors=10, seed=0)
        assert labels.shape == (60,) and manifold.shape == (60, 3) and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_scatter_clusters_one_or_two_panels(digits):
    _, y = digits
    emb = np.random.default_rng(0).normal(size=(60, 2))
    fig = scatter_clusters(emb, y % 3, y, class_names=[str(i) for i in range(10)])
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(scatter_clusters(emb, y % 3).axes) == 1
    with pytest.raises(ValueError, match="shape"):
        scatter_clusters(emb[:, :1], y % 3)


def test_confusion_heatmap_puts_matched_clusters_on_the_diagonal(digits):
    _, y = digits
    fig = confusion_heatmap(y, (y + 1) % 10)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert "1.000" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["1", "2", "3"]


def test_image_montage_grey_and_colour(digits):
    x, y = digits
    fig = image_montage(x, y % 4, n_per_group=5, titles=["a", "b", "c", "d"])
    assert isinstance(fig, Figure) and len(fig.axes) == 4 * 5
    assert fig.axes[0].get_ylabel() == "a"
    rgb = np.repeat(x[:12, :, :, None], 3, axis=3) / 255.0
    assert len(image_montage(rgb, np.arange(12) % 2, n_per_group=3).axes) == 2 * 3
    with pytest.raises(ValueError, match="images must be"):
        image_montage(x.reshape(60, -1), y)


def test_roc_curves_one_line_per_score(digits):
    x, y = digits
    y01 = (y == 1).astype(int)
    flat = x.reshape(60, -1).astype(float)
    fig = roc_curves({"ink": (y01, flat.sum(1)), "centre": (y01, flat[:, 14 * 28 + 14])})
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 2 and labels[0].startswith("ink (AUC")
    with pytest.raises(ValueError, match="empty"):
        roc_curves({})
