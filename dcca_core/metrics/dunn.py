"""Dunn index (Dunn 1974): how far apart clusters are relative to how wide they are.

Two definitions, which give very different numbers, so the book always says which one it uses:

* ``kind="classic"`` (Dunn 1974): min over pairs of clusters of the smallest distance between a point
  of one and a point of the other, divided by the largest cluster diameter (largest distance between
  two points of the same cluster). Two single points decide it, so it is usually tiny on real data.
* ``kind="centroid"``: smallest distance between two cluster centroids, divided by the largest
  distance from a point to its own centroid. Cheap and less extreme; often what software reports.

The classic index needs every pair of points (70,000 points: 2.4e9 pairs). It is computed exactly:
float32 matmuls over square blocks of the points sorted by cluster (each pair once) keep the running
extremes and every pair within a rigorous float32 error bound of them; those candidates are then
re-measured exactly in float64 from the input, so the answer is the exact minimum and maximum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..utils import get_device
from ._pairwise import centre, exact_sq_dists
from ._validation import as_2d, as_labels

__all__ = ["dunn_index", "classic_extremes"]

_BLOCK = 1024


def _check(X: Any, labels: Any) -> tuple[torch.Tensor, np.ndarray, int]:
    Xt = as_2d(X)
    lab = as_labels(labels, Xt.shape[0])
    _, inv = np.unique(lab, return_inverse=True)
    k = int(inv.max()) + 1
    if k < 2:
        raise ValueError(f"the Dunn index needs at least 2 clusters; labels have {k}")
    return Xt, inv, k


def dunn_index(X: Any, labels: Any, kind: str = "classic", *, device: str = "auto",
               progress: bool | None = None) -> float:
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
    acc = torch.device("cpu") if dev.type == "mps" else dev
    lab = torch.as_tensor(inv, device=acc)
    n, d = Xt.shape
    sums = torch.zeros((k, d), dtype=torch.float64, device=acc)
    for s in range(0, n, 4096):
        sums.index_add_(0, lab[s:s + 4096], Xt[s:s + 4096].to(acc, torch.float64))
    cent = sums / torch.bincount(lab, minlength=k).to(torch.float64).unsqueeze(1)
    width = 0.0
    for s in range(0, n, 4096):
        r = (Xt[s:s + 4096].to(acc, torch.float64) - cent[lab[s:s + 4096]]).norm(dim=1)
        width = max(width, float(r.max()))
    cc = torch.cdist(cent, cent)
    cc.fill_diagonal_(math.inf)
    return float(cc.min()), width


def classic_extremes(X: Any, labels: Any, *, device: str = "auto", block: int = _BLOCK,
                     progress: bool | None = None) -> tuple[float, float]:
    """Exact (min squared distance between clusters, max squared distance within a cluster)."""
    Xt, inv, k = _check(X, labels)
    order = np.argsort(inv, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(inv, minlength=k))]
    data = centre(Xt[torch.as_tensor(order, device=Xt.device)], device)
    err = data.error_bound()
    dev = data.X.device
    buf = torch.empty((block, block), dtype=torch.float32, device=dev)
    tiles = [[slice(s, min(s + block, bounds[c + 1])) for s in range(bounds[c], bounds[c + 1], block)]
             for c in range(k)]
    work = []                                  # (row tile, column tile, same cluster?)
    for c in range(k):
        for a, I in enumerate(tiles[c]):
            work += [(I, J, True) for J in tiles[c][a:]]
            work += [(I, J, False) for c2 in range(c + 1, k) for J in tiles[c2]]
    lo, hi = math.inf, -math.inf               # running float32 extremes
    cand_lo, cand_hi = [], []                  # (i, j, float32 value) near the running extremes
    show = progress if progress is not None else Xt.shape[0] > 20000
    for I, J, same in tqdm(work, desc="Dunn index (all pairs)", disable=not show, mininterval=2.0):
        g = data.sq_block(I, J, buf[: I.stop - I.start, : J.stop - J.start])   # ||y||^2 - 2 x.y
        sq_i = data.sq[I]
        if same:
            top = float((g.amax(1) + sq_i).max())
            if top >= hi - 2 * err:
                hi = max(hi, top)
                cand_hi.append(_pairs(g, sq_i, I, J, lambda v: v >= hi - 2 * err))
        else:
            low = float((g.amin(1) + sq_i).min())
            if low <= lo + 2 * err:
                lo = min(lo, low)
                cand_lo.append(_pairs(g, sq_i, I, J, lambda v: v <= lo + 2 * err))
    order_t = torch.as_tensor(order)
    sep = _refine(Xt, order_t, cand_lo, lambda v: v <= lo + 2 * err).min()
    width = _refine(Xt, order_t, cand_hi, lambda v: v >= hi - 2 * err).max()
    return float(sep), float(width)


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
