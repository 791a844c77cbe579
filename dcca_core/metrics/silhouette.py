"""Silhouette coefficient (Rousseeuw 1987), exact and blocked, in PyTorch.

For sample i in cluster A: a(i) = mean distance to the other members of A, b(i) = smallest mean
distance to the members of another cluster, s(i) = (b - a) / max(a, b), and s(i) = 0 when A is a
singleton (sklearn's convention). The score is the mean of s(i).

Distances come from matmuls (||x||^2 - 2 x.y + ||y||^2) on centred data in square blocks, using the
symmetry of the distance matrix (each off-diagonal block serves both its row and its column block);
per-cluster sums are accumulated in float64. With more than 64 features the matmuls run in float32
and pairs closer than 1% of the scale of their norms, where that form loses relative accuracy, are
recomputed exactly in float64 from the input; with few features everything is float64. Either way
the result matches sklearn's float64 computation to about 1e-7 or better.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..utils import accumulator_device, get_device
from ._pairwise import Centred, centre, column_mean, exact_sq_dists, power_of_two_scale, spread_bound
from ._validation import as_2d, as_labels

__all__ = ["silhouette_samples", "silhouette_score"]

_NEAR = 1e-2  # pairs with d^2 < _NEAR * (max ||x||^2 in both blocks) get exact distances
_BLOCK = 1024
_FLOAT32_FROM = 65  # features from which the distance matmuls run in float32


def _check_n_labels(k: int, n: int) -> None:
    if not 2 <= k <= n - 1:
        raise ValueError(f"the silhouette needs between 2 and n_samples - 1 = {n - 1} clusters; labels have {k}")


def _cluster_distance_sums(Xt: torch.Tensor, inv: np.ndarray, k: int, device: Any, block: int) -> np.ndarray:
    """(n, k) float64: sum of the distances from each sample to all members of each cluster.

    Samples are sorted by cluster, so each block's columns (rows) fall into a few cluster segments,
    each reduced with a float64 accumulator.
    """
    order = np.argsort(inv, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(inv, minlength=k))]
    fast = Xt.shape[1] >= _FLOAT32_FROM
    data = centre(Xt, device, dtype=torch.float32 if fast else torch.float64, order=order)
    dev, acc = data.X.device, data.acc
    n = data.X.shape[0]
    sums = torch.zeros((n, k), dtype=torch.float64, device=dev)
    buf = torch.empty((block, block), dtype=data.X.dtype, device=dev)
    blocks = [slice(s, min(s + block, n)) for s in range(0, n, block)]

    def segments(sl: slice) -> list[tuple[int, slice]]:
        """(cluster, local slice) of the clusters a block of sorted samples spans."""
        first, last = np.searchsorted(bounds, [sl.start, sl.stop - 1], side="right") - 1
        return [
            (c, slice(max(bounds[c], sl.start) - sl.start, min(bounds[c + 1], sl.stop) - sl.start))
            for c in range(first, last + 1)
        ]

    near_i, near_j, near_sym = [], [], []
    for bi, I in enumerate(blocks):
        seg_i = segments(I)
        for J in blocks[bi:]:
            d2 = data.sq_block(I, J, buf[: I.stop - I.start, : J.stop - J.start])
            d2.add_(data.sq[I].unsqueeze(1)).clamp_(min=0.0)
            close = torch.nonzero(d2 < _NEAR * float(data.sq[I].max() + data.sq[J].max())) if fast else None
            if I.start == J.start:
                d2.fill_diagonal_(0.0)  # d(x, x) = 0 exactly
                if close is not None:
                    close = close[close[:, 0] != close[:, 1]]
            if close is not None and close.numel():
                near_i.append(close[:, 0] + I.start)
                near_j.append(close[:, 1] + J.start)
                near_sym.append(torch.full((close.shape[0],), J.start != I.start, device=dev))
                d2[close[:, 0], close[:, 1]] = 0.0  # their exact distances are added below
            dist = d2.sqrt_()
            for c, cols in segments(J):
                sums[I, c] += dist[:, cols].sum(1, dtype=torch.float64)
            if J.start != I.start:
                for c, rows in seg_i:
                    sums[J, c] += dist[rows].sum(0, dtype=torch.float64)
    sums = sums.to(acc)
    if near_i:
        i, j = torch.cat(near_i), torch.cat(near_j)
        order_t = torch.as_tensor(order)
        d = exact_sq_dists(Xt, order_t[i.cpu()], order_t[j.cpu()]).sqrt().to(acc) / data.scale
        lab = torch.as_tensor(inv[order], device=acc)
        i, j = i.to(acc), j.to(acc)
        sums.view(-1).index_add_(0, i * k + lab[j], d)
        off = torch.cat(near_sym).to(acc)  # off-diagonal blocks also stand for (j, i)
        sums.view(-1).index_add_(0, j[off] * k + lab[i[off]], d[off])
    out = np.empty((n, k))
    out[order] = sums.cpu().numpy()
    return out


_EUCLIDEAN = ("euclidean", "l2")


def silhouette_samples(
    X: Any,
    labels: Any,
    *,
    metric: Any = "euclidean",
    device: str = "auto",
    block: int = _BLOCK,
    distributed: bool = False,
    **kwds: Any,
) -> np.ndarray:
    """Silhouette coefficient s(i) of every sample (Rousseeuw 1987, eq. 2), float64 NumPy.

    Euclidean distances take our exact blocked path; any other `metric` sklearn's pairwise_distances
    accepts (a name, a callable, or "precomputed" with X the (n, n) distance matrix) and `kwds` go
    to sklearn's silhouette_samples. Labels may be of any type (strings too). With `distributed`,
    X and labels are this process's rows of a torch.distributed row-sharded data set (collective;
    euclidean only) and the result is s(i) of the local rows.
    """
    if metric not in _EUCLIDEAN or kwds:
        if distributed:
            raise ValueError(f"distributed=True supports metric='euclidean' only, got metric={metric!r}")
        from sklearn.metrics import silhouette_samples as sk_samples

        return np.asarray(sk_samples(_numpy(X), as_labels(labels), metric=metric, **kwds), dtype=np.float64)
    Xt = as_2d(X)
    lab = as_labels(labels, Xt.shape[0])
    if distributed:
        return _distributed_samples(Xt, lab, device, block)
    return _samples(Xt, lab, device, block)


def _numpy(X: Any) -> Any:
    return X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X


def _samples(Xt: torch.Tensor, lab: np.ndarray, device: Any, block: int) -> np.ndarray:
    """silhouette_samples on validated input."""
    _, inv = np.unique(lab, return_inverse=True)
    k = int(inv.max()) + 1
    _check_n_labels(k, Xt.shape[0])
    sums = _cluster_distance_sums(Xt, inv, k, device, block)
    counts = np.bincount(inv, minlength=k).astype(np.float64)
    return _from_sums(sums, inv, counts)


def _from_sums(sums: np.ndarray, inv: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """s(i) from the distance sums of each sample to each cluster and the cluster sizes."""
    n = sums.shape[0]
    own = sums[np.arange(n), inv]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = own / (counts[inv] - 1)
        means = sums / counts
        means[np.arange(n), inv] = np.inf
        b = means.min(1)
        s = (b - a) / np.maximum(a, b)
    return np.nan_to_num(s)  # singletons (0/0) → 0, as sklearn


def silhouette_score(
    X: Any,
    labels: Any,
    *,
    metric: Any = "euclidean",
    sample_size: int | None = None,
    random_state: Any = None,
    device: str = "auto",
    distributed: bool = False,
    **kwds: Any,
) -> float:
    """Mean silhouette coefficient; with `sample_size`, on a random subset drawn as sklearn does.

    `metric` and `kwds` as in `silhouette_samples` (non-euclidean metrics are sklearn's own
    computation). With `distributed` (collective, euclidean, no `sample_size`), the mean over every
    process's rows.
    """
    if metric not in _EUCLIDEAN or kwds:
        if distributed:
            raise ValueError(f"distributed=True supports metric='euclidean' only, got metric={metric!r}")
        from sklearn.metrics import silhouette_score as sk_score

        lab = as_labels(labels)
        return float(
            sk_score(_numpy(X), lab, metric=metric, sample_size=sample_size, random_state=random_state, **kwds)
        )
    Xt = as_2d(X)
    lab = as_labels(labels, Xt.shape[0])
    if distributed:
        if sample_size is not None:
            raise ValueError("sample_size is not supported with distributed=True")
        from ..cluster._distributed import Comm

        s = _distributed_samples(Xt, lab, device, _BLOCK)
        comm = Comm(True, Xt.shape[0], "distributed")
        return float(comm.sum(torch.tensor([s.sum()], dtype=torch.float64))[0] / comm.n_total)
    if sample_size is not None:
        from sklearn.utils import check_random_state

        if not isinstance(sample_size, (int, np.integer)) or not 0 < sample_size <= Xt.shape[0]:
            raise ValueError(f"sample_size must be an integer in [1, {Xt.shape[0]}], got {sample_size!r}")
        idx = check_random_state(random_state).permutation(Xt.shape[0])[:sample_size]
        Xt = Xt[torch.as_tensor(idx, device=Xt.device)]
        lab = lab[idx]
    return float(np.mean(_samples(Xt, lab, device, _BLOCK)))


def _distributed_samples(Xt: torch.Tensor, lab: np.ndarray, device: Any, block: int) -> np.ndarray:
    """s(i) of this process's rows of a row-sharded data set (collective over torch.distributed).

    Every process's rows visit every process block by block (all-reduced); each process sums the
    distances from its rows to each visiting block per cluster, with the same float32 matmuls,
    centring (global mean), scaling and exact float64 re-measurement of near pairs as one process.
    """
    from ..cluster._distributed import Comm

    comm = Comm(True, Xt.shape[0], "distributed")
    inv, k = global_codes(lab, comm)
    counts = comm.sum(torch.as_tensor(np.bincount(inv, minlength=k), dtype=torch.float64)).numpy()
    _check_n_labels(k, comm.n_total)
    data = sharded_centre(Xt, device, comm, torch.float32 if Xt.shape[1] >= _FLOAT32_FROM else torch.float64)
    fast = data.X.dtype == torch.float32
    dev, acc = data.X.device, data.acc
    n = Xt.shape[0]
    sums = torch.zeros((n, k), dtype=torch.float64, device=acc)
    inv_t = torch.as_tensor(inv, device=dev)
    for r, size in enumerate(comm.sizes):
        start_r = int(sum(comm.sizes[:r]))
        for start in range(0, int(size), block):
            idx = torch.arange(start_r + start, start_r + min(start + block, int(size)))
            Xb = comm.rows(data.X, idx)
            sqb = comm.values(data.sq, idx).to(dev, data.X.dtype)
            lb = comm.values(inv_t, idx).long().to(acc)
            raw = comm.rows(Xt, idx, torch.float64) if fast else None
            onehot = torch.zeros((idx.numel(), k), dtype=torch.float64, device=acc)
            onehot[torch.arange(idx.numel()), lb] = 1.0
            for s in range(0, n, block):
                I = slice(s, min(s + block, n))
                d2 = torch.addmm(sqb.unsqueeze(0), data.X[I], Xb.T, alpha=-2.0)
                d2.add_(data.sq[I].unsqueeze(1)).clamp_(min=0.0)
                same = (torch.arange(I.start, I.stop) + comm.offset).unsqueeze(1) == idx.unsqueeze(0)
                d2[same.to(dev)] = 0.0
                if fast:
                    close = torch.nonzero((d2 < _NEAR * float(data.sq[I].max() + sqb.max())) & ~same.to(dev))
                    if close.numel():
                        a = Xt[I][close[:, 0].to(Xt.device)].to(torch.float64)
                        b = raw[close[:, 1].cpu()].to(a.device)
                        d2[close[:, 0], close[:, 1]] = ((a - b).square().sum(1) / data.scale**2).to(dev, d2.dtype)
                sums[I] += d2.sqrt_().to(acc, torch.float64) @ onehot
    return _from_sums(sums.cpu().numpy(), inv, counts)


def global_codes(lab: np.ndarray, comm: Any) -> tuple[np.ndarray, int]:
    """Cluster codes 0..k-1 of the local labels over the sorted union of every process's labels."""
    classes = np.unique(lab)
    if comm.active:
        everyone: list[Any] = [None] * comm.world
        comm.dist.all_gather_object(everyone, classes.tolist())
        classes = np.unique(np.concatenate([np.asarray(c, dtype=classes.dtype) for c in everyone]))
    return np.searchsorted(classes, lab), int(classes.size)


def sharded_centre(Xt: torch.Tensor, device: Any, comm: Any, dtype: torch.dtype) -> Centred:
    """The local rows centred on the global mean and scaled by the global power of two."""
    acc = accumulator_device(get_device(device))
    mean = comm.sum(column_mean(Xt, acc) * Xt.shape[0]) / comm.n_total
    spread = float(comm.max(torch.tensor([spread_bound(Xt, mean)], dtype=torch.float64))[0])
    return centre(Xt, device, dtype=dtype, mean=mean, scale=power_of_two_scale(spread))
