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
from ._pairwise import UNIT, centre, column_mean, exact_sq_dists
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
    X: Any, labels: Any, kind: str = "classic", *, device: str = "auto", progress: bool | None = None
) -> float:
    """Dunn index of a partition (see the module docstring for the two `kind`s); inf if no cluster has width."""
    if kind not in ("classic", "centroid"):
        raise ValueError(f"kind must be 'classic' or 'centroid', got {kind!r}")
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
    if prune:
        V = _basis(Xt, mean, min(64, d // 4), dev)
        first = torch.cat(
            [
                (Xt[s : s + 4096].to(acc, torch.float64) - mean).to(dev, torch.float32) @ V[:, 0]
                for s in range(0, n, 4096)
            ]
        )
        order = np.lexsort((first.cpu().numpy(), inv))  # by cluster, then along the main direction
    else:
        order = np.argsort(inv, kind="stable")
    data = centre(Xt, dev, order=order, mean=mean)
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


def _basis(Xt: torch.Tensor, mean: torch.Tensor, m: int, dev: torch.device) -> torch.Tensor:
    """(d, m) orthonormal float32 basis of the main directions of X - mean: a randomised range
    finder with one power iteration (Halko et al. 2011, alg. 4.4) on <= 4,096 evenly spaced rows."""
    step = max(1, Xt.shape[0] // 4096)
    sample = (Xt[::step].to(mean.device, torch.float64) - mean).to(dev, torch.float32)
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
    i = torch.cat([c[0] for c in cands])
    j = torch.cat([c[1] for c in cands])
    mask = keep(torch.cat([c[2] for c in cands]))
    return exact_sq_dists(Xt, order[i[mask]], order[j[mask]])
