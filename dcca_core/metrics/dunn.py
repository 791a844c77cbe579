"""Dunn index (Dunn 1974): how far apart clusters are relative to how wide they are.

Two definitions, which give very different numbers, so the book always says which one it uses:

* ``kind="classic"`` (Dunn 1974): min over pairs of clusters of the smallest distance between a point
  of one and a point of the other, divided by the largest cluster diameter (largest distance between
  two points of the same cluster). Two single points decide it, so it is usually tiny on real data.
* ``kind="centroid"``: smallest distance between two cluster centroids, divided by the largest
  distance from a point to its own centroid. Cheap and less extreme; often what software reports.

The classic index involves every pair of points (70,000 points: 2.4e9 pairs). It is computed exactly:
float32 matmuls over square blocks of the points sorted by cluster (each pair once) keep the running
extremes and every pair within a rigorous float32 error bound of them; those candidates are then
re-measured exactly in float64 from the input, so the answer is the exact minimum and maximum. On
large inputs, cheap bounds from a 64-dimensional projection first rule out most block pairs (see
`classic_extremes`); the bounds only skip work, never change the answer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..utils import accumulator_device, get_device, progress_bar
from ._pairwise import UNIT, centre, column_mean, exact_sq_dists, power_of_two_scale, spread_bound
from ._validation import as_2d, as_labels

__all__ = ["dunn_index", "classic_extremes"]

_BLOCK = 512


def _check(X: Any, labels: Any) -> tuple[torch.Tensor, np.ndarray, int]:
    Xt = as_2d(X)
    lab = as_labels(labels, Xt.shape[0])
    _, inv = np.unique(lab, return_inverse=True)
    k = int(inv.max()) + 1
    if k < 2:
        raise ValueError(f"the Dunn index needs at least 2 clusters; labels have {k}")
    return Xt, inv, k


def dunn_index(
    X: Any,
    labels: Any,
    kind: str = "classic",
    *,
    device: str = "auto",
    progress: bool | None = None,
    distributed: bool = False,
) -> float:
    """Dunn index of a partition (`kind`: "classic" or "centroid", see the module docstring); inf if no cluster has width.

    With `distributed`, X and labels are this process's rows of a torch.distributed row-sharded
    data set (a collective call); every process gets the index of all rows.
    """
    if kind not in ("classic", "centroid"):
        raise ValueError(f"kind must be 'classic' or 'centroid', got {kind!r}")
    if distributed:
        return _distributed_dunn(X, labels, kind, device)
    Xt, inv, k = _check(X, labels)
    if kind == "centroid":
        sep, width = _centroid_terms(Xt, inv, k, device)
    else:
        sep_sq, width_sq = classic_extremes(Xt, inv, device=device, progress=progress)
        sep, width = math.sqrt(sep_sq), math.sqrt(width_sq)
    return math.inf if width == 0 else sep / width


def _centroid_terms(Xt: torch.Tensor, inv: np.ndarray, k: int, device: Any) -> tuple[float, float]:
    """Smallest centroid-centroid distance and largest point-to-own-centroid distance, float64."""
    dev = get_device(device)
    acc = accumulator_device(dev)
    lab = torch.as_tensor(inv, device=acc)
    n, d = Xt.shape
    sums = torch.zeros((k, d), dtype=torch.float64, device=acc)
    for s in range(0, n, 4096):
        sums.index_add_(0, lab[s : s + 4096], Xt[s : s + 4096].to(acc, torch.float64))
    cent = sums / torch.bincount(lab, minlength=k).to(torch.float64).unsqueeze(1)
    width = 0.0
    for s in range(0, n, 4096):
        r = (Xt[s : s + 4096].to(acc, torch.float64) - cent[lab[s : s + 4096]]).norm(dim=1)
        width = max(width, float(r.max()))
    cc = torch.cdist(cent, cent)
    cc.fill_diagonal_(math.inf)
    return float(cc.min()), width


def classic_extremes(
    X: Any,
    labels: Any,
    *,
    device: str = "auto",
    block: int = _BLOCK,
    progress: bool | None = None,
    prune: bool | None = None,
) -> tuple[float, float]:
    """Exact (min squared distance between clusters, max squared distance within a cluster).

    Points are sorted by cluster (and, inside a cluster, along the main direction of the data) and
    cut into blocks. With `prune` (default: for 4,096+ points with 64+ features) a cheap pass first
    bounds every block pair from m = 64 projected coordinates plus the residual norms r:
    ||p_x - p_y||^2 + (r_x - r_y)^2 <= d^2 <= ||p_x - p_y||^2 + (r_x + r_y)^2; blocks are then measured
    in float32 in the order of their bounds, and those that cannot hold an extreme pair are skipped.
    """
    Xt, inv, k = _check(X, labels)
    n, d = Xt.shape
    prune = (n >= 4096 and d >= 64) if prune is None else prune
    bounds = np.r_[0, np.cumsum(np.bincount(inv, minlength=k))]
    dev = get_device(device)
    acc = accumulator_device(dev)
    mean = column_mean(Xt, acc)
    scale = power_of_two_scale(spread_bound(Xt, mean))  # extreme magnitudes: float32 stays in range
    if prune:
        V = _basis(Xt, mean, min(64, d // 4), dev, scale)
        first = torch.cat(
            [
                ((Xt[s : s + 4096].to(acc, torch.float64) - mean) / scale).to(dev, torch.float32) @ V[:, 0]
                for s in range(0, n, 4096)
            ]
        )
        order = np.lexsort((first.cpu().numpy(), inv))  # by cluster, then along the main direction
    else:
        order = np.argsort(inv, kind="stable")
    data = centre(Xt, dev, order=order, mean=mean, scale=scale)
    err = data.error_bound()
    proj = None
    if prune:
        proj = _project(data.X, V)
        err += (d + proj.shape[1] + 16) * UNIT * 2.0 * float(data.sq.max())  # the bounds' own rounding
    buf = torch.empty((block, block), dtype=torch.float32, device=dev)
    tiles = [
        [slice(s, min(s + block, bounds[c + 1])) for s in range(bounds[c], bounds[c + 1], block)] for c in range(k)
    ]
    same = [(I, J) for c in range(k) for a, I in enumerate(tiles[c]) for J in tiles[c][a:]]
    cross = [(I, J) for c in range(k) for I in tiles[c] for c2 in range(c + 1, k) for J in tiles[c2]]
    show = progress if progress is not None else n > 20000
    if proj is not None:
        # bounds from [p, r] . [p', +-r']: lower = sq + sq' - 2 (p.p' + r r'), upper = ... - 2 (p.p' - r r')
        flip = proj.clone()
        flip[:, -1] = -flip[:, -1]
        tops = [
            float(
                (
                    torch.addmm(
                        data.sq[J].unsqueeze(0),
                        proj[I],
                        flip[J].T,
                        alpha=-2.0,
                        out=buf[: I.stop - I.start, : J.stop - J.start],
                    ).amax(1)
                    + data.sq[I]
                ).max()
            )
            for I, J in same
        ]
        lows = [
            float(
                (
                    torch.addmm(
                        data.sq[J].unsqueeze(0),
                        proj[I],
                        proj[J].T,
                        alpha=-2.0,
                        out=buf[: I.stop - I.start, : J.stop - J.start],
                    ).amin(1)
                    + data.sq[I]
                ).min()
            )
            for I, J in progress_bar(cross, desc="Dunn index (bounds)", enabled=show, mininterval=2.0)
        ]
        same = [same[i] for i in np.argsort(tops)[::-1]]
        cross = [cross[i] for i in np.argsort(lows)]
        tops, lows = sorted(tops, reverse=True), sorted(lows)
    lo, hi = math.inf, -math.inf  # running float32 extremes
    cand_lo, cand_hi = [], []  # (i, j, float32 value) near the running extremes
    for b, (I, J) in enumerate(same):
        if proj is not None and tops[b] < hi - 2 * err:
            break  # no pair left can be the widest
        g = data.sq_block(I, J, buf[: I.stop - I.start, : J.stop - J.start])  # ||y||^2 - 2 x.y
        top = float((g.amax(1) + data.sq[I]).max())
        if top >= hi - 2 * err:
            hi = max(hi, top)
            cand_hi.append(_pairs(g, data.sq[I], I, J, lambda v, hi=hi: v >= hi - 2 * err))
    bar = progress_bar(total=len(cross), desc="Dunn index (exact blocks)", enabled=show, mininterval=2.0)
    for b, (I, J) in enumerate(cross):
        if proj is not None and lows[b] > lo + 2 * err:
            break  # no pair left can be the closest
        g = data.sq_block(I, J, buf[: I.stop - I.start, : J.stop - J.start])
        low = float((g.amin(1) + data.sq[I]).min())
        if low <= lo + 2 * err:
            lo = min(lo, low)
            cand_lo.append(_pairs(g, data.sq[I], I, J, lambda v, lo=lo: v <= lo + 2 * err))
        bar.update()
    bar.total = bar.n  # the rest was ruled out by the bounds
    bar.close()
    order_t = torch.as_tensor(order)
    sep = _refine(Xt, order_t, cand_lo, lambda v: v <= lo + 2 * err).min()
    width = _refine(Xt, order_t, cand_hi, lambda v: v >= hi - 2 * err).max()
    return float(sep), float(width)


def _basis(Xt: torch.Tensor, mean: torch.Tensor, m: int, dev: torch.device, scale: float = 1.0) -> torch.Tensor:
    """(d, m) orthonormal float32 basis of the main directions of X - mean: a randomised range
    finder with one power iteration (Halko et al. 2011, alg. 4.4) on <= 4,096 evenly spaced rows."""
    step = max(1, Xt.shape[0] // 4096)
    sample = ((Xt[::step].to(mean.device, torch.float64) - mean) / scale).to(dev, torch.float32)
    gen = torch.Generator(device="cpu").manual_seed(0)

    def orth(a: torch.Tensor) -> torch.Tensor:
        return torch.linalg.qr(a.to("cpu", torch.float64)).Q.to(dev, torch.float32)

    V = orth(sample.T @ orth(sample @ torch.randn(Xt.shape[1], m, generator=gen).to(dev)))
    return orth(sample.T @ orth(sample @ V))


def _project(X: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """[V^T x, ||x - V V^T x||] per (centred) point, (n, m + 1) float32."""
    P = X @ V
    r = torch.empty(X.shape[0], dtype=torch.float32, device=X.device)
    for s in range(0, X.shape[0], 4096):
        r[s : s + 4096] = torch.addmm(X[s : s + 4096], P[s : s + 4096], V.T, alpha=-1.0).norm(dim=1)
    return torch.cat([P, r.unsqueeze(1)], 1)


def _pairs(g: torch.Tensor, sq_i: torch.Tensor, I: slice, J: slice, keep) -> tuple[torch.Tensor, ...]:
    """Pairs of a block whose float32 squared distance passes `keep`, as (i, j, value) in sorted order."""
    d2 = g + sq_i.unsqueeze(1)
    idx = torch.nonzero(keep(d2))
    return (idx[:, 0] + I.start).cpu(), (idx[:, 1] + J.start).cpu(), d2[idx[:, 0], idx[:, 1]].cpu()


def _refine(Xt: torch.Tensor, order: torch.Tensor, cands: list, keep) -> torch.Tensor:
    """Exact float64 squared distances of the candidates that still pass `keep` at the end."""
    if not cands:
        raise ValueError("the Dunn index found no finite pairwise distance in X (values too large or too small?)")
    i = torch.cat([c[0] for c in cands])
    j = torch.cat([c[1] for c in cands])
    mask = keep(torch.cat([c[2] for c in cands]))
    return exact_sq_dists(Xt, order[i[mask]], order[j[mask]])


def _distributed_dunn(X: Any, labels: Any, kind: str, device: Any, block: int = _BLOCK) -> float:
    """The Dunn index of row shards: extremes of each process's rows against every later process's
    blocks (all-reduced), float32 matmuls with the same rigorous error bound, candidates re-measured
    exactly in float64 at once; the exact extremes are all-reduced (min / max)."""
    from ..cluster._distributed import Comm
    from .silhouette import global_codes, sharded_centre

    Xt = as_2d(X)
    lab = as_labels(labels, Xt.shape[0])
    comm = Comm(True, Xt.shape[0], "distributed")
    inv, k = global_codes(lab, comm)
    if k < 2:
        raise ValueError(f"the Dunn index needs at least 2 clusters; labels have {k}")
    dev = get_device(device)
    acc = accumulator_device(dev)
    n, d = Xt.shape
    lab_t = torch.as_tensor(inv, device=acc)
    if kind == "centroid":
        sums = torch.zeros((k, d), dtype=torch.float64, device=acc)
        for s in range(0, n, 4096):
            sums.index_add_(0, lab_t[s : s + 4096], Xt[s : s + 4096].to(acc, torch.float64))
        sizes = comm.sum(torch.bincount(lab_t, minlength=k).to(torch.float64))
        cent = comm.sum(sums) / sizes.unsqueeze(1)
        width = torch.zeros(1, dtype=torch.float64)
        for s in range(0, n, 4096):
            r = (Xt[s : s + 4096].to(acc, torch.float64) - cent[lab_t[s : s + 4096]]).norm(dim=1)
            width = torch.maximum(width, r.max().cpu().reshape(1))
        w = float(comm.max(width)[0])
        cc = torch.cdist(cent, cent)
        cc.fill_diagonal_(math.inf)
        return math.inf if w == 0 else float(cc.min()) / w
    data = sharded_centre(Xt, dev, comm, torch.float32)
    sq_max = float(comm.max(data.sq.max().double().cpu().reshape(1))[0])
    err = (d + 8) * UNIT * 2.0 * sq_max
    inv_dev = torch.as_tensor(inv, device=dev)
    lo = hi = None  # running float32 extremes (this process)
    sep, width = math.inf, 0.0  # exact extremes (this process)
    for r, size in enumerate(comm.sizes):
        start_r = int(sum(comm.sizes[:r]))
        for start in range(0, int(size), block):
            idx = torch.arange(start_r + start, start_r + min(start + block, int(size)))
            Xb, sqb = comm.rows(data.X, idx), comm.values(data.sq, idx).to(dev, torch.float32)
            raw = comm.rows(Xt, idx, torch.float64)
            lb = comm.values(inv_dev, idx).long().to(dev)
            if r < comm.rank:
                continue  # those pairs are measured by process r
            for s in range(0, n, block):
                I = slice(s, min(s + block, n))
                g = torch.addmm(sqb.unsqueeze(0), data.X[I], Xb.T, alpha=-2.0).add_(data.sq[I].unsqueeze(1))
                same = inv_dev[I].unsqueeze(1) == lb.unsqueeze(0)
                inside, across = g.masked_fill(~same, -math.inf), g.masked_fill(same, math.inf)
                top, low = float(inside.max()), float(across.min())
                if top > -math.inf and (hi is None or top >= hi - 2 * err):
                    hi = top if hi is None else max(hi, top)
                    pairs = torch.nonzero(inside >= hi - 2 * err)
                    width = max(width, float(_exact(Xt, I, raw, pairs).max()))
                if low < math.inf and (lo is None or low <= lo + 2 * err):
                    lo = low if lo is None else min(lo, low)
                    pairs = torch.nonzero(across <= lo + 2 * err)
                    sep = min(sep, float(_exact(Xt, I, raw, pairs).min()))
    sep = float(comm.min(torch.tensor([sep], dtype=torch.float64))[0])
    width = float(comm.max(torch.tensor([width], dtype=torch.float64))[0])
    if not math.isfinite(sep):
        raise ValueError("the Dunn index found no finite pairwise distance in X (values too large or too small?)")
    return math.inf if width == 0 else math.sqrt(sep) / math.sqrt(width)


def _exact(Xt: torch.Tensor, I: slice, raw: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """||x_i - y_j||^2 in float64 from the input, for (local row in I, visiting row) pairs."""
    a = Xt[I][pairs[:, 0].to(Xt.device)].to(torch.float64).cpu()
    b = raw[pairs[:, 1].cpu()].cpu()
    return (a - b).square().sum(1)
