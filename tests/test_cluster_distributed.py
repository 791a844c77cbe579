"""Row shards over torch.distributed (2 local gloo processes): KMeans, silhouette and Dunn equal one process's.

Each process builds the same data, keeps its own (uneven) stretch of rows, and calls the same API with
``distributed=True``; the results it writes are compared here with one process on all rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from sklearn.datasets import make_blobs

from dcca_core.cluster import KMeans
from dcca_core.metrics import dunn_index, silhouette_samples, silhouette_score

WORLD = 2


def _data() -> dict[str, np.ndarray]:
    X, y = make_blobs(410, n_features=6, centers=5, cluster_std=1.2, random_state=11)
    wide, wy = make_blobs(300, n_features=72, centers=3, cluster_std=4.0, random_state=12)
    w = np.random.default_rng(13).uniform(0.2, 2.0, len(X))
    far = np.vstack([X[[0, 50, 100, 150]], np.full((1, 6), 1e3)])  # a centre that owns nothing: relocation
    return {"X": X, "y": y, "w": w, "wide": wide, "wy": wy, "far": far}


def _cut(n: int, rank: int) -> slice:
    at = int(n * 0.45)  # uneven shards
    return slice(0, at) if rank == 0 else slice(at, n)


def _fits(X, w, far, distributed: bool) -> dict[str, KMeans]:
    common = {"device": "cpu", "distributed": distributed}
    return {
        "pp": KMeans(5, n_init=3, random_state=0, **common).fit(X),
        "random_w": KMeans(5, init="random", n_init=4, random_state=1, **common).fit(X, sample_weight=w),
        "pp_w": KMeans(5, n_init=2, random_state=2, **common).fit(X, sample_weight=w),
        "filter": KMeans(4, random_state=3, filter_dim=2, **common).fit(X),
        "relocate": KMeans(5, init=far, **common).fit(X),
    }


def _metrics(d: dict[str, np.ndarray], names: np.ndarray, rows: slice, wrows: slice, distributed: bool):
    kw = {"device": "cpu", "distributed": distributed} if distributed else {"device": "cpu"}
    return {
        "sil": silhouette_score(d["X"][rows], d["y"][rows], **kw),
        "sil_names": silhouette_score(d["X"][rows], names[rows], **kw),
        "sil_wide": silhouette_score(d["wide"][wrows], d["wy"][wrows], **kw),
        "sil_samples": silhouette_samples(d["X"][rows], d["y"][rows], **kw),
        "dunn": dunn_index(d["wide"][wrows], d["wy"][wrows], **kw),
        "dunn_names": dunn_index(d["X"][rows], names[rows], **kw),
        "dunn_centroid": dunn_index(d["X"][rows], d["y"][rows], kind="centroid", **kw),
    }


def _worker(rank: int, init_file: str, out: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        d = _data()
        rows, wrows = _cut(len(d["X"]), rank), _cut(len(d["wide"]), rank)
        names = np.array(["a", "bb", "c", "dd", "e"])[d["y"]]
        fits = _fits(d["X"][rows], d["w"][rows], d["far"], True)
        result = {
            name: {
                "labels": km.labels_,
                "inertia": km.inertia_,
                "centers": km.cluster_centers_,
                "n_iter": km.n_iter_,
                "score": km.score(d["X"][rows]),
            }
            for name, km in fits.items()
        }
        result["predict"] = fits["pp"].predict(d["X"][rows])
        np.random.seed(100 + rank)  # random_state=None: the processes' global streams differ
        unseeded = KMeans(5, device="cpu", distributed=True).fit(d["X"][rows])
        result["unseeded"] = {"centers": unseeded.cluster_centers_, "labels": unseeded.labels_}
        result["metrics"] = _metrics(d, names, rows, wrows, True)
        torch.save(result, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    mp.spawn(_worker, args=(str(tmp / "init"), str(tmp)), nprocs=WORLD, join=True)
    return [torch.load(tmp / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]


@pytest.fixture(scope="module")
def single():
    d = _data()
    names = np.array(["a", "bb", "c", "dd", "e"])[d["y"]]
    return d, _fits(d["X"], d["w"], d["far"], False), _metrics(d, names, slice(None), slice(None), False)


@pytest.mark.parametrize("name", ["pp", "random_w", "pp_w", "filter", "relocate"])
def test_kmeans_on_shards_equals_one_process(shards, single, name):
    d, fits, _ = single
    one = fits[name]
    labels = np.concatenate([s[name]["labels"] for s in shards])
    np.testing.assert_array_equal(labels, one.labels_)
    for s in shards:
        assert s[name]["inertia"] == pytest.approx(one.inertia_, rel=1e-12)
        np.testing.assert_allclose(s[name]["centers"], one.cluster_centers_, rtol=1e-12, atol=1e-12)
        assert s[name]["n_iter"] == one.n_iter_
        assert s[name]["score"] == pytest.approx(one.score(d["X"]), rel=1e-12)
    np.testing.assert_array_equal(np.concatenate([s["predict"] for s in shards]), fits["pp"].labels_)


@pytest.mark.parametrize("name", ["sil", "sil_names", "sil_wide", "dunn", "dunn_names", "dunn_centroid"])
def test_metrics_on_shards_equal_one_process(shards, single, name):
    _, _, ref = single
    for s in shards:
        assert s["metrics"][name] == pytest.approx(ref[name], rel=1e-7 if name == "sil_wide" else 1e-12)


def test_unseeded_fit_is_consistent_across_processes(shards):
    """With random_state=None each process's own stream differs; rank 0's draws are used everywhere."""
    np.testing.assert_array_equal(shards[0]["unseeded"]["centers"], shards[1]["unseeded"]["centers"])
    assert len(np.unique(np.concatenate([s["unseeded"]["labels"] for s in shards]))) == 5


def test_silhouette_samples_on_shards(shards, single):
    _, _, ref = single
    np.testing.assert_allclose(
        np.concatenate([s["metrics"]["sil_samples"] for s in shards]), ref["sil_samples"], rtol=0, atol=1e-12
    )


def test_distributed_without_a_process_group_is_a_clear_error():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="distributed=True needs an initialised torch.distributed process group"):
        KMeans(2, distributed=True).fit(X)
    with pytest.raises(ValueError, match="process group"):
        silhouette_score(X, [0, 1] * 10, distributed=True)
